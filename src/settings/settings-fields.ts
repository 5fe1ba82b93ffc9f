import { DEFAULT_PORTS } from '../relays/relay-address.js';
import type { SecretField } from '../relays/relay-secrets.js';
import type { RelayEntity } from '../relays/relay.entity.js';
import { type Check, HTTP_URL, MAILBOX, NO_CONTROL, ONE_LINE, RELAY_HOST, HOST_NAME, SERVICE_ACCOUNT_KEY, TENANT_ID, TIME_OF_DAY, TOKEN_URL, blankOr } from './field-checks.js';

/**
 * The one description of the settings fields: each field's name, label, kind, limits, whether
 * it is secret, its help, its fieldset, and where it is kept. The validation of PUT
 * /api/v1/settings (dto/settings-input.ts), the settings as the API shows them
 * (settings.view.ts), the settings' schemas in the API document (openapi/requests.ts, from
 * dto/settings-input.ts; openapi/views-settings.ts) and the Edit Settings form (its parsing,
 * labels, hints and fieldsets) all derive from this table.
 */

/** The form's fieldsets, in order. */
export const SETTINGS_FIELDSETS = [
  { id: 'relay', legend: 'Relay' },
  { id: 'auth', legend: 'Authentication (SASL)' },
  { id: 'oauth', legend: 'OAuth2 (when the authentication method is OAuth2)' },
  { id: 'identity', legend: 'Identity' },
  { id: 'delivery', legend: 'Delivery' },
  { id: 'report', legend: 'Daily report' },
  { id: 'selfcheck', legend: 'Self-check' },
  { id: 'retention', legend: 'Retention and alert storms' },
] as const;

export type FieldsetId = (typeof SETTINGS_FIELDSETS)[number]['id'];

/** A non-secret column of the primary relay's row. */
type RelayColumn = Exclude<keyof RelayEntity, 'id' | 'priority' | 'enabled' | 'createdAt' | 'updatedAt' | `${string}Sealed`>;

interface FieldBase {
  name: string;
  /** What the field is called: its label on the form and the subject of its reasons ("Relay port must be at most 65535"). */
  label: string;
  /** Said after the label on the form only: "Timeout (seconds)". */
  labelNote?: string;
  /** What it does; a number's limits go before it (helpText). */
  help?: string;
  fieldset: FieldsetId;
  /** Kept in the primary relay's row (this column), not in the settings row. Secrets are, always. */
  relay?: RelayColumn;
  placeholder?: string;
  /** The browser should not offer to fill it in. */
  autocompleteOff?: true;
}

/** Text: trimmed unless `trim: false` (a name kept as typed), at most `max` characters, passing each check in order. */
export interface TextField extends FieldBase {
  kind: 'text';
  max?: number;
  trim?: false;
  checks?: readonly Check[];
  /** The reason when the value is not text at all (else "must be text"). */
  notText?: string;
  email?: true;
  /** A textarea of this many rows. */
  rows?: number;
}

/** A whole number of `unit` from min to max; `zero` says what 0 means where it is allowed. */
export interface NumberField extends FieldBase {
  kind: 'number';
  min: number;
  max: number;
  unit: string;
  zero?: 'off' | 'no limit';
}

/** A port (1-65535), or null for the default port of the security mode. */
export interface PortField extends FieldBase {
  kind: 'port';
}

export interface FlagField extends FieldBase {
  kind: 'flag';
}

export interface ChoiceField extends FieldBase {
  kind: 'choice';
  choices: readonly { value: string; label: string }[];
}

/** Write-only: stored sealed in the primary relay's row; '' keeps the stored value, null clears it. */
export interface SecretSpec extends FieldBase {
  kind: 'secret';
  name: SecretField;
  max: number;
  /** false: the password counts every character; other secrets are trimmed. */
  trim?: false;
  checks: readonly Check[];
  /** A textarea rather than a password box. */
  multiline?: true;
}

/** Local name → addresses (README: Mail for root). */
export interface AliasesField extends FieldBase {
  kind: 'aliases';
}

/** Write-only, not stored: a provider preset fills relayHost, relayPort and security (presets.ts). */
export interface PresetField extends FieldBase {
  kind: 'preset';
}

export type SettingsFieldSpec = TextField | NumberField | PortField | FlagField | ChoiceField | SecretSpec | AliasesField | PresetField;

const SECRET_HELP = 'Stored encrypted and never shown.';

/** In the order of the form: fieldset by fieldset. */
export const SETTINGS_FIELDS = [
  { name: 'preset', kind: 'preset', label: 'Provider', fieldset: 'relay', help: 'Choosing a provider fills relay host, port and security (when you save; at once with JavaScript). A field you change yourself wins. Username and password stay yours to type.' },
  {
    name: 'relayHost',
    kind: 'text',
    label: 'Relay host',
    fieldset: 'relay',
    relay: 'host',
    max: 320,
    checks: [blankOr(RELAY_HOST)],
    placeholder: 'smtp.example.com',
    help: "Host name or IP address of the smarthost. Leave blank to deliver directly to each recipient's mail server (MX).",
  },
  { name: 'relayPort', kind: 'port', label: 'Relay port', fieldset: 'relay', relay: 'port', help: 'Leave blank for the default port of the security mode (see the choices below).' },
  {
    name: 'security',
    kind: 'choice',
    label: 'Security',
    fieldset: 'relay',
    relay: 'security',
    choices: [
      { value: 'none', label: `None — plain SMTP (default port ${DEFAULT_PORTS.none})` },
      { value: 'starttls', label: `STARTTLS (default port ${DEFAULT_PORTS.starttls})` },
      { value: 'tls', label: `Implicit TLS (default port ${DEFAULT_PORTS.tls})` },
    ],
    help: 'How the connection to the relay is protected. STARTTLS upgrades a plain connection; implicit TLS encrypts from the first byte.',
  },
  {
    name: 'tlsVerify',
    kind: 'flag',
    label: 'Verify the TLS certificate',
    fieldset: 'relay',
    relay: 'tlsVerify',
    help: 'Refuse a relay whose certificate is not valid for its host name. Turn off only for a relay with a self-signed certificate.',
  },
  { name: 'authEnabled', kind: 'flag', label: 'Log in to the relay', labelNote: 'SASL AUTH', fieldset: 'auth', relay: 'authEnabled', help: 'Needs a username and a password, or OAuth2 below.' },
  {
    name: 'authMethod',
    kind: 'choice',
    label: 'Authentication method',
    fieldset: 'auth',
    relay: 'authMethod',
    choices: [
      { value: 'password', label: 'Password (SASL PLAIN / LOGIN)' },
      { value: 'oauth2', label: 'OAuth2 (SASL XOAUTH2) — Microsoft 365, Google, other' },
    ],
    help: 'OAuth2 applies to the primary relay (this page); backup relays log in with a password.',
  },
  { name: 'username', kind: 'text', label: 'Username', labelNote: 'with OAuth2: the mailbox to send as', fieldset: 'auth', relay: 'username', max: 256, trim: false, checks: [ONE_LINE, NO_CONTROL], autocompleteOff: true },
  {
    name: 'password',
    kind: 'secret',
    label: 'Password',
    fieldset: 'auth',
    max: 1024,
    trim: false,
    checks: [NO_CONTROL],
    help: `${SECRET_HELP} Leave empty to keep the stored password; it stays with the host, port and security it was saved for, so a change of those needs it typed again.`,
  },
  {
    name: 'oauthProvider',
    kind: 'choice',
    label: 'OAuth2 provider',
    fieldset: 'oauth',
    relay: 'oauthProvider',
    choices: [
      { value: 'microsoft', label: 'Microsoft 365 (app-only: tenant id, client id, client secret)' },
      { value: 'google', label: 'Google (OAuth client + "Authorize with Google")' },
      { value: 'google-service-account', label: 'Google Workspace service account (domain-wide delegation)' },
      { value: 'generic', label: 'Other OAuth2 provider (token URL, client id/secret, scope, refresh token)' },
    ],
    help: 'Microsoft 365: relay smtp.office365.com, port 587, STARTTLS. Google: smtp.gmail.com, port 587, STARTTLS. The README has the step-by-step setup.',
  },
  {
    name: 'oauthTenantId',
    kind: 'text',
    label: 'Tenant id',
    labelNote: 'Microsoft',
    fieldset: 'oauth',
    relay: 'oauthTenantId',
    max: 256,
    checks: [ONE_LINE, NO_CONTROL, blankOr(TENANT_ID)],
    autocompleteOff: true,
    placeholder: '00000000-0000-0000-0000-000000000000',
    help: 'The Directory (tenant) ID of the app registration.',
  },
  {
    name: 'oauthClientId',
    kind: 'text',
    label: 'Client id',
    fieldset: 'oauth',
    relay: 'oauthClientId',
    max: 512,
    checks: [ONE_LINE, NO_CONTROL],
    autocompleteOff: true,
    help: 'Microsoft: the Application (client) ID. Google: the OAuth client ID.',
  },
  {
    name: 'oauthClientSecret',
    kind: 'secret',
    label: 'Client secret',
    fieldset: 'oauth',
    max: 4096,
    checks: [NO_CONTROL],
    help: `${SECRET_HELP} Leave empty to keep the stored one (for the same token endpoint: a new tenant, provider or token URL needs it typed again). Microsoft: the secret's Value (not its ID).`,
  },
  {
    name: 'oauthRefreshToken',
    kind: 'secret',
    label: 'Refresh token',
    fieldset: 'oauth',
    max: 8192,
    checks: [NO_CONTROL],
    help: 'Google: filled by “Authorize with Google” below. Other providers: paste one, or leave empty for the client-credentials grant.',
  },
  {
    name: 'oauthServiceAccountKey',
    kind: 'secret',
    label: 'Service account key',
    labelNote: 'JSON',
    fieldset: 'oauth',
    max: 20000,
    checks: [blankOr(SERVICE_ACCOUNT_KEY)],
    multiline: true,
    help: `Google Workspace: the service account's JSON key, with domain-wide delegation for https://mail.google.com/. ${SECRET_HELP}`,
  },
  {
    name: 'oauthTokenUrl',
    kind: 'text',
    label: 'Token URL',
    labelNote: 'other provider',
    fieldset: 'oauth',
    relay: 'oauthTokenUrl',
    max: 2000,
    checks: [ONE_LINE, NO_CONTROL, blankOr(TOKEN_URL)],
    placeholder: 'https://login.example.com/oauth2/token',
    help: 'https:// (http:// only for 127.0.0.1 or localhost).',
  },
  {
    name: 'oauthScope',
    kind: 'text',
    label: 'Scope',
    labelNote: 'other provider',
    fieldset: 'oauth',
    relay: 'oauthScope',
    max: 1000,
    checks: [ONE_LINE, NO_CONTROL],
    help: 'Space-separated; blank sends none. Microsoft and Google use their own fixed scopes.',
  },
  {
    name: 'oauthClientAuth',
    kind: 'choice',
    label: 'Client authentication',
    fieldset: 'oauth',
    relay: 'oauthClientAuth',
    choices: [
      { value: 'auto', label: 'Automatic (in the request body; HTTP Basic if the provider refuses that)' },
      { value: 'post', label: 'In the request body (client_secret_post)' },
      { value: 'basic', label: 'HTTP Basic (client_secret_basic)' },
    ],
    help: 'How the client secret goes to the token endpoint. Automatic sends it in the request body and, if the provider answers invalid_client, once as HTTP Basic, then keeps what worked. Microsoft and Google take either.',
  },
  {
    name: 'hostname',
    kind: 'text',
    label: 'Hostname',
    fieldset: 'identity',
    max: 320,
    checks: [blankOr(HOST_NAME)],
    placeholder: 'mail.example.com',
    help: "The name Postroom gives in EHLO and Message-IDs. Leave blank for the machine's fully qualified name, or its address in brackets when it has none.",
  },
  {
    name: 'fromName',
    kind: 'text',
    label: 'From name',
    fieldset: 'identity',
    max: 200,
    trim: false,
    checks: [ONE_LINE, NO_CONTROL],
    help: 'The display name of mail Postroom writes itself, and of rewritten senders.',
  },
  {
    name: 'fromAddress',
    kind: 'text',
    label: 'From address',
    fieldset: 'identity',
    max: 320,
    checks: [blankOr(MAILBOX('alerts@example.com'))],
    email: true,
    placeholder: 'alerts@example.com',
    help: 'The sender address of mail Postroom writes itself (test email, bounces), and of rewritten senders.',
  },
  {
    name: 'rewriteFrom',
    kind: 'flag',
    label: 'Rewrite From',
    fieldset: 'identity',
    help: 'Replace the sender of every message with the From name and address (for relays that accept only their own domain).',
  },
  {
    name: 'adminAddress',
    kind: 'text',
    label: 'Admin address',
    fieldset: 'identity',
    max: 320,
    checks: [blankOr(MAILBOX('admin@example.com'))],
    email: true,
    placeholder: 'admin@example.com',
    help: 'Where notices for the administrator go, and mail for local names without an alias (root, postmaster, a user, x@localhost).',
  },
  {
    name: 'aliases',
    kind: 'aliases',
    label: 'Aliases',
    fieldset: 'identity',
    placeholder: 'root: ops@example.com, oncall@example.com',
    help: 'One per line, name: addresses. Mail for that local name (root, backup, root@localhost, root@this host) goes to these addresses; any other local name goes to the admin address.',
  },
  { name: 'timeoutSeconds', kind: 'number', label: 'Timeout', labelNote: 'seconds', fieldset: 'delivery', min: 1, max: 600, unit: 'seconds', help: 'How long to wait for the relay to connect and answer.' },
  { name: 'poolSize', kind: 'number', label: 'Pool size', labelNote: 'connections', fieldset: 'delivery', min: 1, max: 100, unit: 'connections', help: 'How many messages are delivered at once.' },
  {
    name: 'lifetimeHours',
    kind: 'number',
    label: 'Lifetime',
    labelNote: 'hours',
    fieldset: 'delivery',
    min: 1,
    max: 2400,
    unit: 'hours',
    help: 'How long a message that cannot be delivered stays in the queue before it bounces; then the sender gets a non-delivery notice.',
  },
  {
    name: 'delayWarningHours',
    kind: 'number',
    label: 'Delay warning',
    labelNote: 'hours',
    fieldset: 'delivery',
    min: 0,
    max: 2400,
    unit: 'hours',
    zero: 'off',
    help: 'Once a message has waited this long, its sender gets one “delayed” notice (Postroom keeps trying).',
  },
  { name: 'reportEnabled', kind: 'flag', label: "Mail yesterday's report to the admin address every day", fieldset: 'report', help: "Sent through Postroom's own queue, as text, once a day." },
  { name: 'reportTime', kind: 'text', label: 'Send at', labelNote: 'HH:MM', fieldset: 'report', checks: [TIME_OF_DAY], notText: 'must be a time such as 07:00', placeholder: '07:00', help: "In the appliance's time zone." },
  {
    name: 'heartbeatEnabled',
    kind: 'flag',
    label: 'Mail a heartbeat to the admin address every day',
    fieldset: 'report',
    help: 'A short “the mail path works” message with yesterday’s counts, at the time above: when it stops coming, something is wrong.',
  },
  {
    name: 'probeMinutes',
    kind: 'number',
    label: 'Probe the relays every',
    labelNote: 'minutes',
    fieldset: 'selfcheck',
    min: 0,
    max: 1440,
    unit: 'minutes',
    zero: 'off',
    help: 'Connects to each relay and logs in (EHLO, STARTTLS, AUTH or XOAUTH2 with a fresh token), then QUIT, sending nothing: a wrong password or an expired OAuth grant shows in relay health and the event log before an alert needs the relay.',
  },
  {
    name: 'queueAgeAlarmMinutes',
    kind: 'number',
    label: 'Alarm when mail has waited',
    labelNote: 'minutes',
    fieldset: 'selfcheck',
    min: 0,
    max: 10080,
    unit: 'minutes',
    zero: 'off',
    help: 'When the oldest deferred message has waited this long: a warning event, a banner on the dashboard and one notice to the channels of the “if undelivered” rules.',
  },
  {
    name: 'heartbeatUrl',
    kind: 'text',
    label: 'Dead man’s switch URL',
    fieldset: 'selfcheck',
    max: 2048,
    checks: [blankOr(HTTP_URL)],
    placeholder: 'https://hc-ping.com/…',
    autocompleteOff: true,
    help: 'Gets a GET after each successful delivery or probe, at most once a minute (healthchecks.io style): the service tells you when the pings stop. Blank: off.',
  },
  {
    name: 'retentionDays',
    kind: 'number',
    label: 'Keep logs',
    labelNote: 'days',
    fieldset: 'retention',
    min: 1,
    max: 3650,
    unit: 'days',
    help: 'Mail-log entries and events older than this are purged once a day. Message bodies are never kept after delivery or bounce.',
  },
  { name: 'stormWindowMinutes', kind: 'number', label: 'Storm window', labelNote: 'minutes', fieldset: 'retention', min: 1, max: 1440, unit: 'minutes', help: 'The window in which identical messages are counted.' },
  {
    name: 'stormMaxDuplicates',
    kind: 'number',
    label: 'Identical messages per window',
    fieldset: 'retention',
    min: 0,
    max: 10000,
    unit: 'messages',
    zero: 'off',
    help: 'Messages with the same sender, recipients and subject beyond this many are accepted and held, then sent together in a digest (the held messages attached) at the end of the window.',
  },
  {
    name: 'senderRateLimitPerMinute',
    kind: 'number',
    label: 'Messages per sender per minute',
    fieldset: 'retention',
    min: 0,
    max: 100000,
    unit: 'messages a minute',
    zero: 'no limit',
    help: "A sender's messages beyond this many a minute are accepted and held, then sent together in a digest (the held messages attached).",
  },
] as const satisfies readonly SettingsFieldSpec[];

type Field = (typeof SETTINGS_FIELDS)[number];

/** The fields that hold a value (all but the preset). */
export type ValueField = Exclude<Field, { kind: 'preset' }>;
export type SettingsFieldName = ValueField['name'];

/** What each kind of field holds. */
type ValueOf<F> = F extends { kind: 'text' }
  ? string
  : F extends { kind: 'number' }
    ? number
    : F extends { kind: 'port' }
      ? number | null
      : F extends { kind: 'flag' }
        ? boolean
        : F extends { kind: 'choice'; choices: readonly { value: infer V }[] }
          ? V
          : F extends { kind: 'secret' }
            ? string | null
            : F extends { kind: 'aliases' }
              ? Record<string, string[]>
              : never;

/** PUT /api/v1/settings after validation: any subset of the fields (a secret: text to set, '' to keep, null to clear). */
export type SettingsInput = { [F in ValueField as F['name']]?: ValueOf<F> };

/** Every non-secret setting with its value, as the API shows them. */
export type SettingsValues = { [F in Exclude<ValueField, { kind: 'secret' }> as F['name']]: ValueOf<F> };

/** A field that holds a value (every kind but the preset). */
export type ValueSpec = Exclude<SettingsFieldSpec, PresetField>;

export const VALUE_FIELDS: readonly ValueSpec[] = SETTINGS_FIELDS.filter((f): f is ValueField => f.kind !== 'preset');
const SECRET_SPECS: readonly SecretSpec[] = VALUE_FIELDS.filter((f): f is SecretSpec => f.kind === 'secret');

const BY_NAME = new Map<string, SettingsFieldSpec>(SETTINGS_FIELDS.map((f) => [f.name, f]));

/** A field's description by name (the preset too), or undefined for a name that is no setting. */
export function settingsField(name: string): SettingsFieldSpec | undefined {
  return BY_NAME.get(name);
}

/** A number's limits, as its reasons and its help give them: "0-2400, 0 = off". */
export function numberRange(f: NumberField, dash = '-', sep = ','): string {
  return `${f.min}${dash}${f.max}${f.zero ? `${sep} 0 = ${f.zero}` : ''}`;
}

/** The help a person reads (the form's hint, the API document): a number's limits first. */
export function helpText(f: SettingsFieldSpec): string {
  const limits = f.kind === 'number' ? numberRange(f, '–', ';') : f.kind === 'port' ? '1–65535' : undefined;
  return [limits && `${limits}.`, f.help].filter(Boolean).join(' ');
}

/** The label with its note, as the form shows it: "Timeout (seconds)". */
export function formLabel(f: SettingsFieldSpec): string {
  return f.labelNote ? `${f.label} (${f.labelNote})` : f.label;
}
