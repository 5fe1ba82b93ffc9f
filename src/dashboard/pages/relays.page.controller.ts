import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotFound } from '../../common/domain-errors.js';
import type { FieldErrors } from '../../common/field-errors.js';
import { appTimeZone } from '../../common/timezone.js';
import { TestEmailResult, TestEmailService } from '../../delivery/test-email.service.js';
import { DEFAULT_PORTS } from '../../relays/relay-address.js';
import type { Security } from '../../relays/relay.entity.js';
import type { RelayView } from '../../relays/relay.view.js';
import { RelaysService } from '../../relays/relays.service.js';
import { SettingsService } from '../../settings/settings.service.js';
import { renderView } from '../../web/htmx.js';
import { errorSummary, fieldsOf, formBodyOf, formChecked, formText, formWhole } from './form-body.js';
import { ListPageController } from './list-page.js';
import { HEALTH_BADGES, SECURITY_LABELS } from './relay-labels.js';
import { reorder } from './relay-order.js';
import { testResultView } from './test-result-view.js';

const PAGE = 'pages/relays/index';
const FRAGMENT = 'fragments/relays/index';
const ACTOR = 'admin';

const SECURITY: { value: Security; label: string }[] = [
  { value: 'starttls', label: `STARTTLS (port ${DEFAULT_PORTS.starttls})` },
  { value: 'tls', label: `Implicit TLS (port ${DEFAULT_PORTS.tls})` },
  { value: 'none', label: `None: plain text (port ${DEFAULT_PORTS.none})` },
];
const FIELD_LABELS: Record<string, string> = {
  host: 'Host',
  port: 'Port',
  security: 'Security',
  tlsVerify: 'TLS verification',
  authEnabled: 'Authentication',
  username: 'Username',
  password: 'Password',
  priority: 'Priority',
  enabled: 'Enabled',
  to: 'Recipient',
};
const FORM_FIELDS = ['host', 'port', 'security', 'tlsVerify', 'authEnabled', 'username', 'password', 'priority', 'enabled', 'to'];

/** What a relay form shows: the values as typed (never a password) and whether one is stored. */
interface RelayForm {
  host: string;
  port: string;
  security: string;
  tlsVerify: boolean;
  authEnabled: boolean;
  username: string;
  priority: string;
  enabled: boolean;
  passwordSet?: boolean;
  clearPassword?: boolean;
}

/** Below the list: adding a backup (the default), or one relay being edited, tested or removed. */
type Panel =
  | { kind: 'add'; form: RelayForm; errors: FieldErrors }
  | { kind: 'edit'; relay: RelayView; form: RelayForm; errors: FieldErrors }
  | { kind: 'test'; relay: RelayView; to: string; errors: FieldErrors; result?: TestEmailResult }
  | { kind: 'remove'; relay: RelayView };

const EMPTY_FORM: RelayForm = { host: '', port: '', security: 'starttls', tlsVerify: true, authEnabled: false, username: '', priority: '', enabled: true };

const isNotFound = (err: unknown) => err instanceof NotFound;

/** The relay API's input from the form. */
function relayInput(body: Record<string, unknown>, mode: 'create' | 'update'): Record<string, unknown> {
  const password = typeof body.password === 'string' ? body.password : '';
  const input: Record<string, unknown> = {
    host: formText(body, 'host'),
    port: formWhole(body, 'port', null),
    security: formText(body, 'security') || 'starttls',
    tlsVerify: formChecked(body, 'tlsVerify'),
    authEnabled: formChecked(body, 'authEnabled'),
    username: formText(body, 'username'),
    enabled: formChecked(body, 'enabled'),
  };
  const priority = formWhole(body, 'priority', undefined);
  if (priority !== undefined) input.priority = priority;
  // Update: '' keeps the stored password, null clears it.
  if (mode === 'update') input.password = formChecked(body, 'clearPassword') ? null : password;
  else if (password) input.password = password;
  return input;
}

function formFromBody(body: Record<string, unknown>, passwordSet?: boolean): RelayForm {
  return {
    host: formText(body, 'host'),
    port: formText(body, 'port'),
    security: formText(body, 'security') || 'starttls',
    tlsVerify: formChecked(body, 'tlsVerify'),
    authEnabled: formChecked(body, 'authEnabled'),
    username: formText(body, 'username'),
    priority: formText(body, 'priority'),
    enabled: formChecked(body, 'enabled'),
    passwordSet,
    clearPassword: formChecked(body, 'clearPassword'),
  };
}

function formFromRelay(r: RelayView): RelayForm {
  return {
    host: r.host,
    port: r.port === null ? '' : String(r.port),
    security: r.security,
    tlsVerify: r.tlsVerify,
    authEnabled: r.authEnabled,
    username: r.username,
    priority: String(r.priority),
    enabled: r.enabled,
    passwordSet: r.passwordSet,
  };
}

/** A change that names a backup relay that is gone (or the primary, which Edit Settings changes). */
const noBackup = (id: string) => `No backup relay ${id}: it may have been removed.`;

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/**
 * Relays: every relay in the order mail tries them, with its health; backups added, changed,
 * reordered and removed, and any relay tested. Plain forms that work without JavaScript (a 303
 * back with a message); htmx swaps the page's part in place. The primary relay is the one of
 * Edit Settings: it is listed and tested here, changed there.
 */
@Controller('relays')
export class RelaysPageController extends ListPageController<RelayView, Panel> {
  protected readonly noun = 'relay';
  protected readonly listPage = { path: '/relays', part: 'relays' };
  protected readonly addPanel: Panel = { kind: 'add', form: EMPTY_FORM, errors: {} };

  constructor(
    private readonly relays: RelaysService,
    private readonly tests: TestEmailService,
    private readonly settings: SettingsService,
  ) {
    super();
  }

  /** The primary relay is edited on Edit Settings: here it can only be tested. */
  @Get()
  page(@Req() req: Request, @Res() res: Response): Promise<void> {
    return this.show(req, res, {
      edit: (relay) => (relay.primary ? undefined : { kind: 'edit', relay, form: formFromRelay(relay), errors: {} }),
      test: async (relay) => ({ kind: 'test', relay, to: (await this.settings.view()).adminAddress ?? '', errors: {} }),
      remove: (relay) => (relay.primary ? undefined : { kind: 'remove', relay }),
    });
  }

  @HttpCode(200)
  @Post()
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    try {
      const added = await this.relays.create(relayInput(body, 'create'), ACTOR);
      await this.done(req, res, `Backup relay ${added.relay} added (priority ${added.priority}).`);
    } catch (err) {
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'add', form: formFromBody(body), errors: fields });
    }
  }

  @HttpCode(200)
  @Post(':id')
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const before = await this.backup(id);
    if (!before) return this.done(req, res, noBackup(id));
    try {
      const after = await this.relays.update(id, relayInput(body, 'update'), ACTOR);
      await this.done(req, res, `Relay ${after.relay} saved.`);
    } catch (err) {
      if (isNotFound(err)) return this.done(req, res, noBackup(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'edit', relay: before, form: formFromBody(body, before.passwordSet), errors: fields });
    }
  }

  /** Move up or down among the backups: the priorities change so that the order is the new one. */
  @HttpCode(200)
  @Post(':id/move')
  async move(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const direction = formBodyOf(req).direction;
    const backups = (await this.rows()).filter((r) => !r.primary);
    const from = backups.findIndex((r) => r.id === id);
    const relay = backups[from];
    if (!relay || (direction !== 'up' && direction !== 'down')) return this.done(req, res, noBackup(id));
    const to = direction === 'up' ? from - 1 : from + 1;
    if (to < 0 || to >= backups.length) return this.done(req, res, `Relay ${relay.relay} is already the ${direction === 'up' ? 'first' : 'last'} backup.`);
    try {
      await this.relays.reprioritise(reorder(backups, from, to), ACTOR);
    } catch (err) {
      if (isNotFound(err)) return this.done(req, res, 'A relay was removed meanwhile: nothing was moved.');
      throw err;
    }
    await this.done(req, res, `Relay ${relay.relay} moved ${direction}: now tried ${ordinal(to + 2)}.`);
  }

  @HttpCode(200)
  @Post(':id/remove')
  async remove(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const relay = await this.backup(id);
    if (!relay) return this.done(req, res, noBackup(id));
    try {
      await this.relays.remove(id, ACTOR);
    } catch (err) {
      if (isNotFound(err)) return this.done(req, res, noBackup(id));
      throw err;
    }
    await this.done(req, res, `Backup relay ${relay.relay} removed.`);
  }

  /** A test email through this relay alone; the diagnosis is shown below the form (no redirect: it is not kept). */
  @HttpCode(200)
  @Post(':id/test')
  async test(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const to = formText(body, 'to');
    const relay = await this.find(id);
    if (!relay) return this.done(req, res, this.gone(id));
    try {
      const result = await this.tests.runOnRelay(id, { to }, ACTOR);
      await this.render(req, res, { kind: 'test', relay, to, errors: {}, result });
    } catch (err) {
      if (isNotFound(err)) return this.done(req, res, this.gone(id));
      const fields = fieldsOf(err);
      if (!fields) throw err;
      await this.refuse(req, res, { kind: 'test', relay, to, errors: { to: fields.to ?? Object.values(fields)[0] ?? 'is not valid' } });
    }
  }

  private async backup(id: string): Promise<RelayView | undefined> {
    const relay = await this.find(id);
    return relay?.primary ? undefined : relay;
  }

  protected rows(): Promise<RelayView[]> {
    return this.relays.list();
  }

  protected async render(req: Request, res: Response, panel: Panel, extra: { notice?: string; list?: RelayView[] } = {}): Promise<void> {
    const [list, settings] = await Promise.all([extra.list ?? this.rows(), this.settings.view()]);
    const backups = list.filter((r) => !r.primary);
    const errors = 'errors' in panel ? panel.errors : {};
    const summary = errorSummary(errors, FIELD_LABELS, FORM_FIELDS);
    const form = 'form' in panel ? panel.form : undefined;
    renderView(req, res, PAGE, FRAGMENT, {
      title: 'Relays',
      nav: 'relays',
      timeZone: appTimeZone(),
      notice: extra.notice,
      primaryHost: settings.relayHost,
      primaryOauth: settings.authEnabled && settings.authMethod === 'oauth2',
      relays: list.map((r, i) => {
        const b = backups.indexOf(r);
        return {
          ...r,
          order: i + 1,
          securityLabel: SECURITY_LABELS[r.security],
          badge: HEALTH_BADGES[r.health.status],
          oauth: r.primary && settings.authEnabled && settings.authMethod === 'oauth2',
          canMoveUp: b > 0,
          canMoveDown: b >= 0 && b < backups.length - 1,
          selected: 'relay' in panel && panel.relay.id === r.id,
        };
      }),
      backupCount: backups.length,
      panel: {
        ...panel,
        [panel.kind]: true,
        result: panel.kind === 'test' && panel.result ? testResultView(panel.result) : undefined,
        errorCount: summary.length,
        summary,
        form: form && {
          ...form,
          securityChoices: SECURITY.map((s) => ({ ...s, selected: s.value === form.security })),
        },
      },
    });
  }
}
