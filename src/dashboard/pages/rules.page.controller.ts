import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ChannelsService } from '../../channels/channels.service.js';
import type { RuleView } from '../../channels/rule.view.js';
import { RulesService } from '../../channels/rules.service.js';
import { NotFound } from '../../common/domain-errors.js';
import type { FieldErrors } from '../../common/field-errors.js';
import { SEVERITIES } from '../../common/severity.js';
import { renderView } from '../../web/htmx.js';
import { TYPE_LABELS } from './channel-fields.js';
import { errorSummary, fieldsOf, formBodyOf, formText } from './form-body.js';
import { ListPageController } from './list-page.js';
import { CONDITIONS, EMPTY_RULE_FORM, type RuleForm, conditionsInWords, ruleFormErrors, ruleFormFromBody, ruleFormFromView, ruleInput, whenInWords } from './rule-form.js';

const PAGE = 'pages/rules/index';
const FRAGMENT = 'fragments/rules/index';
const ACTOR = 'admin';

const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  enabled: 'Enabled',
  sender: 'Sender',
  recipient: 'Recipient',
  subject: 'Subject',
  severity: 'Severity',
  client: 'Client network',
  match: 'Conditions',
  channels: 'Channels',
  when: 'When',
  afterMinutes: 'Minutes',
  position: 'Position',
};
const FORM_FIELDS = ['name', 'enabled', ...CONDITIONS, 'channels', 'when', 'afterMinutes'];

const SEVERITY_CHOICES = [
  { value: '', label: 'Any severity' },
  ...SEVERITIES.map((s, i) => ({ value: s, label: i === 0 ? `${s} or more (every alert)` : i === SEVERITIES.length - 1 ? `${s} only` : `${s} or more` })),
];
const WHEN_CHOICES = [
  { value: 'always', label: 'Always: a copy beside the mail' },
  { value: 'undelivered', label: 'If undelivered in time' },
];

/** Below the list: adding a rule (the default), or one rule being edited or removed. */
type Panel = { kind: 'add'; form: RuleForm; errors: FieldErrors } | { kind: 'edit'; rule: RuleView; form: RuleForm; errors: FieldErrors } | { kind: 'remove'; rule: RuleView };

/**
 * Rules: which alerts go to which channels, in the order they are evaluated, with their
 * conditions in words; added, changed, enabled or disabled, moved and removed. Plain forms that
 * work without JavaScript (a 303 back with a message); htmx swaps the page's part in place, as on
 * the Relays page.
 */
@Controller('rules')
export class RulesPageController extends ListPageController<RuleView, Panel> {
  protected readonly noun = 'rule';
  protected readonly listPage = { path: '/rules', part: 'rules' };
  protected readonly addPanel: Panel = { kind: 'add', form: EMPTY_RULE_FORM, errors: {} };

  constructor(
    private readonly rules: RulesService,
    private readonly channels: ChannelsService,
  ) {
    super();
  }

  @Get()
  page(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.show(req, res, {
      edit: (rule) => ({ kind: 'edit', rule, form: ruleFormFromView(rule), errors: {} }),
      remove: (rule) => ({ kind: 'remove', rule }),
    });
  }

  @HttpCode(200)
  @Post()
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    try {
      const added = await this.rules.create(ruleInput(body), ACTOR);
      await this.done(req, res, `Rule ${added.name} added (position ${added.position}).`);
    } catch (err) {
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'add', form: ruleFormFromBody(body), errors: ruleFormErrors(fields) });
    }
  }

  @HttpCode(200)
  @Post(':id')
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const before = await this.find(id);
    if (!before) return this.done(req, res, this.gone(id));
    try {
      const after = await this.rules.update(id, ruleInput(body), ACTOR);
      await this.done(req, res, `Rule ${after.name} saved.`);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'edit', rule: before, form: ruleFormFromBody(body), errors: ruleFormErrors(fields) });
    }
  }

  @HttpCode(200)
  @Post(':id/enabled')
  async enable(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const enabled = formText(formBodyOf(req), 'enabled') === 'true';
    try {
      const after = await this.rules.update(id, { enabled }, ACTOR);
      await this.done(req, res, `Rule ${after.name} ${enabled ? 'enabled' : 'disabled'}.`);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      throw err;
    }
  }

  /** Up or down by one in the order of evaluation: the rule takes the next position, the others close up. */
  @HttpCode(200)
  @Post(':id/move')
  async move(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const direction = formText(formBodyOf(req), 'direction');
    const list = await this.rows();
    const from = list.findIndex((r) => r.id === id);
    const rule = list[from];
    if (!rule || (direction !== 'up' && direction !== 'down')) return this.done(req, res, this.gone(id));
    const to = direction === 'up' ? from - 1 : from + 1;
    if (to < 0 || to >= list.length) return this.done(req, res, `Rule ${rule.name} is already the ${direction === 'up' ? 'first' : 'last'}.`);
    try {
      const moved = await this.rules.update(id, { position: to + 1 }, ACTOR);
      await this.done(req, res, `Rule ${moved.name} moved ${direction}: now evaluated at position ${moved.position}.`);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      throw err;
    }
  }

  @HttpCode(200)
  @Post(':id/remove')
  async remove(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const rule = await this.find(id);
    if (!rule) return this.done(req, res, this.gone(id));
    try {
      await this.rules.remove(id, ACTOR);
    } catch (err) {
      if (err instanceof NotFound) return this.done(req, res, this.gone(id));
      throw err;
    }
    await this.done(req, res, `Rule ${rule.name} removed.`);
  }

  protected rows(): Promise<RuleView[]> {
    return this.rules.list();
  }

  protected async render(req: Request, res: Response, panel: Panel, extra: { notice?: string; list?: RuleView[] } = {}): Promise<void> {
    const [list, channels] = await Promise.all([extra.list ?? this.rows(), this.channels.list()]);
    const byId = new Map(channels.map((c) => [c.id, c]));
    const errors = 'errors' in panel ? panel.errors : {};
    const summary = errorSummary(errors, FIELD_LABELS, FORM_FIELDS);
    const form = 'form' in panel ? panel.form : undefined;
    renderView(req, res, PAGE, FRAGMENT, {
      title: 'Rules',
      nav: 'rules',
      notice: extra.notice,
      channelCount: channels.length,
      rules: list.map((r, i) => ({
        ...r,
        conditions: conditionsInWords(r.match),
        whenWords: whenInWords(r),
        sendsTo: r.channels.map((id, k) => ({ name: r.channelNames[k], disabled: byId.get(id)?.enabled === false })),
        canMoveUp: i > 0,
        canMoveDown: i < list.length - 1,
        selected: 'rule' in panel && panel.rule.id === r.id,
      })),
      panel: {
        ...panel,
        [panel.kind]: true,
        errorCount: summary.length,
        summary,
        form: form && {
          ...form,
          severityChoices: SEVERITY_CHOICES.map((c) => ({ ...c, selected: c.value === form.severity })),
          whenChoices: WHEN_CHOICES.map((c) => ({ ...c, selected: c.value === form.when })),
          channelChoices: channels.map((c) => ({ id: c.id, name: c.name, typeLabel: TYPE_LABELS[c.type], enabled: c.enabled, checked: form.channels.includes(c.id) })),
        },
      },
    });
  }
}
