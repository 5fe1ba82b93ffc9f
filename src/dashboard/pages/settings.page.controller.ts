import { BadRequestException, Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { renderView, wantsFragment } from '../../web/htmx.js';
import { SETTINGS_FIELDS, SettingsFormValues, changedFields, formToSettingsInput, formValuesFromBody, formValuesFromView } from './settings-form.js';
import { PROVIDER_PRESETS, ProviderPreset, findPreset, presetFields } from '../../settings/presets.js';
import { SettingsService } from '../../settings/settings.service.js';
import { DEFAULT_PORTS, SettingsView } from '../../settings/settings.view.js';

const PAGE = 'pages/settings/index';
const FRAGMENT = 'fragments/settings/form';

/** Human names of the fields, for the error summary. */
const LABELS: Record<string, string> = {
  relayHost: 'Relay host',
  relayPort: 'Relay port',
  security: 'Security',
  tlsVerify: 'Verify TLS certificate',
  authEnabled: 'SASL authentication',
  username: 'Username',
  password: 'Password',
  authMethod: 'Authentication method',
  oauthProvider: 'OAuth2 provider',
  oauthTenantId: 'Tenant id',
  oauthClientId: 'Client id',
  oauthClientSecret: 'Client secret',
  oauthRefreshToken: 'Refresh token',
  oauthServiceAccountKey: 'Service account key',
  oauthTokenUrl: 'Token URL',
  oauthScope: 'Scope',
  oauthClientAuth: 'Client authentication',
  hostname: 'Hostname',
  fromName: 'From name',
  fromAddress: 'From address',
  rewriteFrom: 'Rewrite From',
  adminAddress: 'Admin address',
  aliases: 'Aliases',
  timeoutSeconds: 'Timeout',
  poolSize: 'Pool size',
  lifetimeHours: 'Lifetime',
  delayWarningHours: 'Delay warning',
  preset: 'Provider',
};

/** "Edit Settings": every setting in one form; errors in place, nothing saved on any error. */
@Controller('settings')
export class SettingsPageController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const view = await this.settings.view();
    const saved = typeof req.query.saved === 'string' ? req.query.saved.split(',').filter((f) => (SETTINGS_FIELDS as readonly string[]).includes(f)) : [];
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
    const body = (req.body ?? {}) as Record<string, unknown>;
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
    let after: SettingsView;
    try {
      after = await this.settings.update(input, 'admin');
    } catch (err) {
      if (!(err instanceof BadRequestException)) throw err;
      const fields = ((err.getResponse() as { fields?: Record<string, string> }).fields ?? {}) as Record<string, string>;
      res.status(400);
      renderView(req, res, PAGE, FRAGMENT, this.model(req, before, formValuesFromBody(body), fields, undefined, preset));
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
    res.redirect(303, `/settings?saved=${encodeURIComponent(changed.join(','))}${preset ? `&preset=${encodeURIComponent(preset.id)}` : ''}`);
  }

  private model(req: Request, view: SettingsView, values: SettingsFormValues, fields: Record<string, string>, confirmation?: string, applied?: ProviderPreset) {
    const errors: Record<string, string> = {};
    for (const [name, reason] of Object.entries(fields)) errors[name] = `${LABELS[name] ?? name} ${reason}`;
    const summary = Object.keys(errors).map((name) => ({ name, message: errors[name], inForm: name in LABELS }));
    const security = values.security || view.security;
    // The provider whose host, port and security the form shows (or the one just applied).
    const current =
      applied ??
      PROVIDER_PRESETS.find((p) => p.host === values.relayHost && String(p.port) === (values.relayPort || String(DEFAULT_PORTS[security as keyof typeof DEFAULT_PORTS])) && p.security === security);
    return {
      title: 'Edit Settings',
      nav: 'settings',
      values,
      errors,
      summary,
      errorCount: summary.length,
      confirmation,
      passwordSet: view.passwordSet,
      // Stored secrets this SECRET_KEY cannot open: shown as "unreadable: enter it again".
      unreadable: Object.fromEntries(view.secretsUnreadable.map((field) => [field, true])),
      oauthClientSecretSet: view.oauthClientSecretSet,
      oauthRefreshTokenSet: view.oauthRefreshTokenSet,
      oauthServiceAccountKeySet: view.oauthServiceAccountKeySet,
      authMethodChoices: [
        { value: 'password', label: 'Password (SASL PLAIN / LOGIN)' },
        { value: 'oauth2', label: 'OAuth2 (SASL XOAUTH2) — Microsoft 365, Google, other' },
      ].map((c) => ({ ...c, selected: c.value === (values.authMethod || view.authMethod) })),
      oauthProviderChoices: [
        { value: 'microsoft', label: 'Microsoft 365 (app-only: tenant id, client id, client secret)' },
        { value: 'google', label: 'Google (OAuth client + "Authorize with Google")' },
        { value: 'google-service-account', label: 'Google Workspace service account (domain-wide delegation)' },
        { value: 'generic', label: 'Other OAuth2 provider (token URL, client id/secret, scope, refresh token)' },
      ].map((c) => ({ ...c, selected: c.value === (values.oauthProvider || view.oauthProvider) })),
      oauthClientAuthChoices: [
        { value: 'auto', label: 'Automatic (in the request body; HTTP Basic if the provider refuses that)' },
        { value: 'post', label: 'In the request body (client_secret_post)' },
        { value: 'basic', label: 'HTTP Basic (client_secret_basic)' },
      ].map((c) => ({ ...c, selected: c.value === (values.oauthClientAuth || view.oauthClientAuth) })),
      googleRedirectUri: `${req.protocol}://${req.get('host') ?? 'localhost'}/oauth/google/callback`,
      defaultPort: DEFAULT_PORTS[security as keyof typeof DEFAULT_PORTS] ?? DEFAULT_PORTS[view.security],
      effectivePort: view.effectivePort,
      securityChoices: [
        { value: 'none', label: `None — plain SMTP (default port ${DEFAULT_PORTS.none})` },
        { value: 'starttls', label: `STARTTLS (default port ${DEFAULT_PORTS.starttls})` },
        { value: 'tls', label: `Implicit TLS (default port ${DEFAULT_PORTS.tls})` },
      ].map((c) => ({ ...c, selected: c.value === security })),
      updatedAt: view.updatedAt,
      presets: PROVIDER_PRESETS.map((p) => ({ ...p, selected: p.id === current?.id })),
      presetNote: current?.note,
      presetApplied: applied && confirmation ? `Provider ${applied.name}: host ${applied.host}, port ${applied.port}, ${applied.security === 'tls' ? 'implicit TLS' : applied.security === 'starttls' ? 'STARTTLS' : 'no TLS'}.` : undefined,
    };
  }
}
