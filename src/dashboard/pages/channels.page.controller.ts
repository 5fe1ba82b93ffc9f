import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ChannelTestResult, ChannelTestService } from '../../channels/channel-test.service.js';
import { CHANNEL_TYPES, DEFAULT_WEBHOOK_TEMPLATE } from '../../channels/channel-request.js';
import type { ChannelView } from '../../channels/channel.view.js';
import { ChannelsService } from '../../channels/channels.service.js';
import { RulesService } from '../../channels/rules.service.js';
import { Conflict, NotFound } from '../../common/domain-errors.js';
import type { FieldErrors } from '../../common/field-errors.js';
import { renderView } from '../../web/htmx.js';
import { TYPE_LABELS, secretLines, storedHeadersHint, typeFieldsView, urlHint } from './channel-fields.js';
import { type ChannelForm, EMPTY_CHANNEL_FORM, channelFormFromBody, channelFormFromView, channelInput } from './channel-form.js';
import { errorSummary, fieldsOf, formBodyOf, formText } from './form-body.js';
import { ListPageController } from './list-page.js';

const PAGE = 'pages/channels/index';
const FRAGMENT = 'fragments/channels/index';
const ACTOR = 'admin';

const FIELD_LABELS: Record<string, string> = {
  type: 'Type',
  name: 'Name',
  url: 'URL',
  enabled: 'Enabled',
  token: 'Token',
  topic: 'Topic',
  headers: 'Extra headers',
  template: 'Body template',
};
const FORM_FIELDS = Object.keys(FIELD_LABELS);

/** Below the list: adding a channel (the default), or one channel being edited, tested or removed. */
type Panel =
  | { kind: 'add'; form: ChannelForm; errors: FieldErrors }
  | { kind: 'edit'; channel: ChannelView; form: ChannelForm; errors: FieldErrors }
  | { kind: 'test'; channel: ChannelView; result?: ChannelTestResult; refusal?: string }
  | { kind: 'remove'; channel: ChannelView; refusal?: string };

/**
 * Channels: the notification channels that rules send alerts to, each with whether its secrets
 * are set (never their values) and the rules that use it; added, changed, enabled or disabled,
 * tested and removed. Plain forms that work without JavaScript (a 303 back with a message); htmx
 * swaps the page's part in place, as on the Relays page.
 */
@Controller('channels')
export class ChannelsPageController extends ListPageController<ChannelView, Panel> {
  protected readonly noun = 'channel';
  protected readonly listPage = { path: '/channels', part: 'channels' };
  protected readonly addPanel: Panel = { kind: 'add', form: EMPTY_CHANNEL_FORM, errors: {} };

  constructor(
    private readonly channels: ChannelsService,
    private readonly rules: RulesService,
    private readonly tests: ChannelTestService,
  ) {
    super();
  }

  @Get()
  page(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.show(req, res, {
      edit: (channel) => ({ kind: 'edit', channel, form: channelFormFromView(channel), errors: {} }),
      remove: (channel) => ({ kind: 'remove', channel }),
    });
  }

  @HttpCode(200)
  @Post()
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const refused = (errors: FieldErrors) => this.refuse(req, res, { kind: 'add', form: channelFormFromBody(body), errors });
    const read = channelInput(body, 'create');
    if ('errors' in read) return refused(read.errors);
    try {
      const added = await this.channels.create(read.input, ACTOR);
      await this.done(req, res, `Channel ${added.name} (${TYPE_LABELS[added.type]}) added.`);
    } catch (err) {
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await refused(fields);
    }
  }

  @HttpCode(200)
  @Post(':id')
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const before = await this.find(id);
    if (!before) return this.done(req, res, this.gone(id));
    const refused = (errors: FieldErrors) => this.refuse(req, res, { kind: 'edit', channel: before, form: channelFormFromBody(body, before.type), errors });
    const read = channelInput(body, 'update');
    if ('errors' in read) return refused(read.errors);
    try {
      const after = await this.channels.update(id, read.input, ACTOR);
      await this.done(req, res, `Channel ${after.name} saved.`);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await refused(fields);
    }
  }

  /** Enable or disable from the list; a refusal (secrets that no longer open) opens the edit form with the reason. */
  @HttpCode(200)
  @Post(':id/enabled')
  async enable(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const enabled = formText(formBodyOf(req), 'enabled') === 'true';
    const before = await this.find(id);
    if (!before) return this.done(req, res, this.gone(id));
    try {
      const after = await this.channels.update(id, { enabled }, ACTOR);
      await this.done(req, res, `Channel ${after.name} ${enabled ? 'enabled' : 'disabled'}.`);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'edit', channel: before, form: channelFormFromView(before), errors: fields });
    }
  }

  /** A test notification to this channel alone, now; the diagnosis is shown above the list (no redirect: it is not kept). */
  @HttpCode(200)
  @Post(':id/test')
  async test(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const channel = await this.find(id);
    if (!channel) return this.done(req, res, this.gone(id));
    try {
      const result = await this.tests.test(id, ACTOR);
      await this.render(req, res, { kind: 'test', channel, result });
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      res.status(400);
      await this.render(req, res, { kind: 'test', channel, refusal: errorSummary(fields, FIELD_LABELS, []).map((l) => l.message).join('; ') });
    }
  }

  /** Removes a channel; while a rule sends to it the service refuses (409), and the confirmation says which rules. */
  @HttpCode(200)
  @Post(':id/remove')
  async remove(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const channel = await this.find(id);
    if (!channel) return this.done(req, res, this.gone(id));
    try {
      await this.channels.remove(id, ACTOR);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      if (!(err instanceof Conflict)) throw err;
      res.status(409);
      const users = (await this.rules.list()).filter((r) => r.channels.includes(id)).map((r) => r.name);
      const [rule, them] = users.length > 1 ? ['the rules', 'them'] : ['the rule', 'it'];
      const refusal = users.length ? `${channel.name} is used by ${rule} ${users.map((u) => `“${u}”`).join(', ')}: take it out of ${them} first.` : err.message;
      return this.render(req, res, { kind: 'remove', channel, refusal });
    }
    await this.done(req, res, `Channel ${channel.name} removed.`);
  }

  protected rows(): Promise<ChannelView[]> {
    return this.channels.list();
  }

  protected async render(req: Request, res: Response, panel: Panel, extra: { notice?: string; list?: ChannelView[] } = {}): Promise<void> {
    const [list, rules] = await Promise.all([extra.list ?? this.rows(), this.rules.list()]);
    const errors = 'errors' in panel ? panel.errors : {};
    const summary = errorSummary(errors, FIELD_LABELS, FORM_FIELDS);
    const form = 'form' in panel ? panel.form : undefined;
    const editing = panel.kind === 'edit' ? panel.channel : undefined;
    renderView(req, res, PAGE, FRAGMENT, {
      title: 'Channels',
      nav: 'channels',
      notice: extra.notice,
      channels: list.map((c) => ({
        ...c,
        typeLabel: TYPE_LABELS[c.type],
        secrets: secretLines(c),
        usedBy: rules.filter((r) => r.channels.includes(c.id)).map((r) => r.name),
        selected: 'channel' in panel && panel.channel.id === c.id,
      })),
      panel: {
        ...panel,
        [panel.kind]: true,
        errorCount: summary.length,
        summary,
        typeLabel: 'channel' in panel ? TYPE_LABELS[panel.channel.type] : undefined,
        form: form && { ...form, typeChoices: CHANNEL_TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t], selected: t === form.type })) },
        fields: typeFieldsView(editing?.type),
        urlHint: urlHint(editing, summary.length > 0),
        headersHint: editing && storedHeadersHint(editing),
        defaultTemplate: DEFAULT_WEBHOOK_TEMPLATE,
      },
    });
  }
}
