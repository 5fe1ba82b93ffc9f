import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidInput } from '../../common/domain-errors.js';
import { renderView } from '../../web/htmx.js';
import { SECURITY_LABELS } from './relay-labels.js';
import { testResultView } from './test-result-view.js';
import { SettingsService } from '../../settings/settings.service.js';
import { SettingsView } from '../../settings/settings.view.js';
import { TestEmailResult, TestEmailService } from '../../delivery/test-email.service.js';
import { formBodyOf } from './form-body.js';

const PAGE = 'pages/test-email/index';
const FRAGMENT = 'fragments/test-email/form';

/** "Send Test Email": sends a test message on the saved settings and shows the diagnosis. */
@Controller('test-email')
export class TestEmailPageController {
  constructor(
    private readonly tests: TestEmailService,
    private readonly settings: SettingsService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const view = await this.settings.view();
    renderView(req, res, PAGE, FRAGMENT, this.model(view, view.adminAddress));
  }

  @Post()
  async send(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const to = typeof body.to === 'string' ? body.to.trim() : '';
    const view = await this.settings.view();
    let result: TestEmailResult;
    try {
      result = await this.tests.run({ to }, 'admin');
    } catch (err) {
      if (!(err instanceof InvalidInput)) throw err;
      res.status(400);
      renderView(req, res, PAGE, FRAGMENT, this.model(view, to, `Address ${err.fields.to ?? 'is not valid'}`));
      return;
    }
    res.status(200);
    renderView(req, res, PAGE, FRAGMENT, this.model(view, to, undefined, result));
  }

  private model(view: SettingsView, to: string, error?: string, result?: TestEmailResult) {
    return {
      title: 'Send Test Email',
      nav: 'test',
      to,
      error,
      route: view.relayHost ? `the relay ${view.relayHost}:${view.effectivePort} (${SECURITY_LABELS[view.security]})` : 'direct delivery to the MX hosts of the recipient’s domain',
      result: result && testResultView(result),
    };
  }
}
