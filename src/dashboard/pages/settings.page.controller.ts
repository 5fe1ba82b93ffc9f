import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidInput } from '../../common/domain-errors.js';
import { TestEmailService } from '../../delivery/test-email.service.js';
import { DEFAULT_PORTS } from '../../relays/relay-address.js';
import { PROVIDER_PRESETS, ProviderPreset, findPreset, presetFields } from '../../settings/presets.js';
import { settingsField } from '../../settings/settings-fields.js';
import { SettingsService } from '../../settings/settings.service.js';
import { SettingsView } from '../../settings/settings.view.js';
import { renderView, wantsFragment } from '../../web/htmx.js';
import { formFieldsets } from './settings-fieldsets.js';
import { testResultView } from './test-result-view.js';
import { FORM_FIELDS, SettingsFormValues, changedFields, formToSettingsInput, formValuesFromBody, formValuesFromView } from './settings-form.js';
import { formBodyOf } from './form-body.js';

const PAGE = 'pages/settings/index';
const FRAGMENT = 'fragments/settings/form';

/** "Edit Settings": every setting in one form; errors in place, nothing saved on any error. */
@Controller('settings')
export class SettingsPageController {
  constructor(
    private readonly settings: SettingsService,
    private readonly tests: TestEmailService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const view = await this.settings.view();
    const saved = typeof req.query.saved === 'string' ? req.query.saved.split(',').filter((f) => (FORM_FIELDS as readonly string[]).includes(f)) : [];
    const confirmation =
      req.query.authorized === 'google'
        ? 'Authorized with Google: the refresh token is stored (encrypted). Send a test email to check the relay.'
        : req.query.saved === undefined
          ? undefined
          : saved.length
            ? `Settings saved: ${saved.join(', ')}`
            : 'No changes: the settings already had these values.';
    const applied = typeof req.query.preset === 'string' ? findPreset(req.query.preset) : undefined;
    renderView(req, res, PAGE, FRAGMENT, this.model(req, view, formValuesFromView(view), {}, confirmation, applied));
  }

  @Post()
  async save(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const input = formToSettingsInput(body);
    const before = await this.settings.view();
    const presetId = typeof body.preset === 'string' ? body.preset.trim() : '';
    const preset = presetId ? findPreset(presetId) : undefined;
    if (presetId) {
      // The form always sends host, port and security: the provider fills those the user left
      // as they were; a field changed by hand (or filled in place by the page's script) wins.
      const saved = formValuesFromView(before);
      for (const name of ['relayHost', 'relayPort', 'security'] as const) {
        const posted = typeof body[name] === 'string' ? (body[name] as string).trim() : undefined;
        if (posted === undefined || posted === saved[name]) delete input[name];
      }
      input.preset = presetId;
    }
    if (body.intent === 'test') return this.test(req, res, body, input, before, preset);
    let after: SettingsView;
    try {
      after = await this.settings.update(input, 'admin');
    } catch (err) {
      if (!(err instanceof InvalidInput)) throw err;
      res.status(400);
      renderView(req, res, PAGE, FRAGMENT, this.model(req, before, formValuesFromBody(body), err.fields, undefined, preset));
      return;
    }
    const changed = changedFields(before, after, preset ? { ...presetFields(preset), ...input } : input);
    if (wantsFragment(req)) {
      const confirmation = changed.length ? `Settings saved: ${changed.join(', ')}` : 'No changes: the settings already had these values.';
      res.status(200);
      renderView(req, res, PAGE, FRAGMENT, this.model(req, after, formValuesFromView(after), {}, confirmation, preset));
      return;
    }
    // Post/redirect/get: a reload does not post again.
    res.redirect(303, `/settings?saved=${encodeURIComponent(changed.join(','))}${preset ? `&preset=${encodeURIComponent(preset.id)}` : ''}#settings-result`);
  }

  /**
   * "Test these settings": a test email with the values on screen, saved or not, and nothing
   * saved. The form comes back as it was posted with the diagnosis on top; Save keeps them.
   */
  private async test(req: Request, res: Response, body: Record<string, unknown>, input: Record<string, unknown>, before: SettingsView, preset?: ProviderPreset): Promise<void> {
    const to = typeof body.testTo === 'string' ? body.testTo.trim() : '';
    const values = formValuesFromBody(body);
    try {
      const result = await this.tests.run({ to, settings: input }, 'admin');
      res.status(200);
      renderView(req, res, PAGE, FRAGMENT, { ...this.model(req, before, values, {}, undefined, preset), testTo: to, testResult: testResultView(result) });
    } catch (err) {
      if (!(err instanceof InvalidInput)) throw err;
      // The test's reasons name the settings as settings.<field>, the recipient as to.
      const fields = Object.fromEntries(Object.entries(err.fields).map(([name, reason]) => [name === 'to' ? 'testTo' : name.replace(/^settings\./, ''), reason]));
      res.status(400);
      renderView(req, res, PAGE, FRAGMENT, { ...this.model(req, before, values, fields, undefined, preset), testTo: to });
    }
  }

  private model(req: Request, view: SettingsView, values: SettingsFormValues, fields: Record<string, string>, confirmation?: string, applied?: ProviderPreset) {
    // Each reason with the field's name in front, as the description names it.
    const errors = Object.fromEntries(Object.entries(fields).map(([name, reason]) => [name, `${settingsField(name)?.label ?? name} ${reason}`]));
    if (fields.testTo) errors.testTo = `Test recipient ${fields.testTo}`;
    const summary = Object.keys(errors).map((name) => ({ name, message: errors[name], inForm: settingsField(name) !== undefined || name === 'testTo' }));
    const security = (values.security || view.security) as keyof typeof DEFAULT_PORTS;
    // The provider whose host, port and security the form shows (or the one just applied).
    const current = applied ?? PROVIDER_PRESETS.find((p) => p.host === values.relayHost && String(p.port) === (values.relayPort || String(DEFAULT_PORTS[security])) && p.security === security);
    return {
      title: 'Edit Settings',
      nav: 'settings',
      errors,
      summary,
      errorCount: summary.length,
      confirmation,
      fieldsets: formFieldsets({
        view,
        values,
        errors,
        preset: current,
        presetApplied: applied && confirmation ? `Provider ${applied.name}: host ${applied.host}, port ${applied.port}, ${applied.security === 'tls' ? 'implicit TLS' : applied.security === 'starttls' ? 'STARTTLS' : 'no TLS'}.` : undefined,
        googleRedirectUri: `${req.protocol}://${req.get('host') ?? 'localhost'}/oauth/google/callback`,
      }),
      updatedAt: view.updatedAt,
      testTo: view.adminAddress,
    };
  }
}
