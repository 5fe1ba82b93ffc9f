import { SettingsView } from '../../settings/settings.view.js';

/** The settings fields in the order the form (and the confirmation) lists them. */
export const SETTINGS_FIELDS = [
  'relayHost',
  'relayPort',
  'security',
  'tlsVerify',
  'authEnabled',
  'username',
  'password',
  'authMethod',
  'oauthProvider',
  'oauthTenantId',
  'oauthClientId',
  'oauthClientSecret',
  'oauthRefreshToken',
  'oauthServiceAccountKey',
  'oauthTokenUrl',
  'oauthScope',
  'oauthClientAuth',
  'hostname',
  'fromName',
  'fromAddress',
  'rewriteFrom',
  'adminAddress',
  'timeoutSeconds',
  'poolSize',
  'lifetimeHours',
  'delayWarningHours',
  'reportEnabled',
  'reportTime',
  'retentionDays',
  'stormWindowMinutes',
  'stormMaxDuplicates',
  'senderRateLimitPerMinute',
  'aliases',
] as const;

export type SettingsField = (typeof SETTINGS_FIELDS)[number];

/** Write-only fields: blank keeps the stored value, the "clear" checkbox (clear + Name) sends null. */
export const SECRET_FORM_FIELDS = ['password', 'oauthClientSecret', 'oauthRefreshToken', 'oauthServiceAccountKey'] as const;
type SecretFormField = (typeof SECRET_FORM_FIELDS)[number];
const clearName = (f: SecretFormField): string => `clear${f[0]!.toUpperCase()}${f.slice(1)}`;
const isSecret = (name: string): name is SecretFormField => (SECRET_FORM_FIELDS as readonly string[]).includes(name);

const TEXT_FIELDS = ['relayHost', 'security', 'authMethod', 'oauthProvider', 'oauthTenantId', 'oauthClientId', 'oauthTokenUrl', 'oauthScope', 'oauthClientAuth', 'username', 'hostname', 'fromName', 'fromAddress', 'adminAddress', 'reportTime'] as const;
const NUMBER_FIELDS = ['timeoutSeconds', 'poolSize', 'lifetimeHours', 'delayWarningHours', 'retentionDays', 'stormWindowMinutes', 'stormMaxDuplicates', 'senderRateLimitPerMinute'] as const;
const CHECKBOX_FIELDS = ['tlsVerify', 'authEnabled', 'rewriteFrom', 'reportEnabled'] as const;

/** What the form posts, as strings: the values to show again after an error. */
export type SettingsFormValues = Record<Exclude<SettingsField, SecretFormField>, string> & {
  clearPassword: boolean;
  clearOauthClientSecret: boolean;
  clearOauthRefreshToken: boolean;
  clearOauthServiceAccountKey: boolean;
};

/** The first value of a form field (a repeated field keeps the first) as a string, or undefined. */
function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = Array.isArray(body[name]) ? (body[name] as unknown[])[0] : body[name];
  return typeof v === 'string' ? v : undefined;
}

const checked = (v: string | undefined): boolean => v !== undefined && ['on', 'true', '1', 'yes'].includes(v.toLowerCase());

/** A whole number written as text becomes a number; anything else stays text, so validation names the field. */
function toNumber(v: string): number | string {
  const t = v.trim();
  return /^[+-]?\d{1,15}$/.test(t) ? Number(t) : t;
}

/**
 * Turns the settings form (application/x-www-form-urlencoded, all strings) into the input of
 * SettingsService.update. Pure; the service validates the result.
 *
 * - The form always sends every field, so an absent checkbox means false.
 * - Relay port: blank → null (the default port of the security mode).
 * - Numbers: whole numbers written as text become numbers; anything else is passed on as text
 *   and the validation rejects it for that field.
 * - Password: blank keeps the stored one (left out); "clear the stored password" sends null.
 * - Fields the form does not know (e.g. _csrf) are dropped.
 */
export function formToSettingsInput(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of TEXT_FIELDS) {
    const v = field(body, name);
    if (v !== undefined) out[name] = name === 'username' || name === 'fromName' ? v : v.trim();
  }
  const port = field(body, 'relayPort');
  if (port !== undefined) out.relayPort = port.trim() === '' ? null : toNumber(port);
  for (const name of NUMBER_FIELDS) {
    const v = field(body, name);
    if (v !== undefined) out[name] = toNumber(v);
  }
  for (const name of CHECKBOX_FIELDS) out[name] = checked(field(body, name));
  const aliases = field(body, 'aliases');
  if (aliases !== undefined) out.aliases = aliasesFromText(aliases);
  for (const name of SECRET_FORM_FIELDS) {
    const v = field(body, name) ?? '';
    if (checked(field(body, clearName(name)))) out[name] = null;
    else if (name === 'password' ? v !== '' : v.trim() !== '') out[name] = v;
  }
  return out;
}

/** The values to show in the form: what the user posted (after an error), never the password. */
export function formValuesFromBody(body: Record<string, unknown>): SettingsFormValues {
  const values = {} as SettingsFormValues;
  for (const name of SETTINGS_FIELDS) {
    if (isSecret(name)) continue;
    if ((CHECKBOX_FIELDS as readonly string[]).includes(name)) values[name] = checked(field(body, name)) ? 'true' : '';
    else values[name] = field(body, name) ?? '';
  }
  for (const name of SECRET_FORM_FIELDS) values[clearName(name) as 'clearPassword'] = checked(field(body, clearName(name)));
  return values;
}

/** The values to show in the form for the saved settings. */
export function formValuesFromView(view: SettingsView): SettingsFormValues {
  const values = {} as SettingsFormValues;
  for (const name of SETTINGS_FIELDS) {
    if (isSecret(name)) continue;
    const v = view[name];
    values[name] = typeof v === 'boolean' ? (v ? 'true' : '') : v === null ? '' : typeof v === 'object' ? aliasesToText(v) : String(v);
  }
  for (const name of SECRET_FORM_FIELDS) values[clearName(name) as 'clearPassword'] = false;
  return values;
}

/** Which fields an update changed, in form order, from the views before and after it. */
export function changedFields(before: SettingsView, after: SettingsView, input: Record<string, unknown>): SettingsField[] {
  return SETTINGS_FIELDS.filter((name) => {
    if (!(name in input)) return false;
    if (isSecret(name)) {
      const set = `${name}Set` as 'passwordSet';
      return input[name] === null ? before[set] : typeof input[name] === 'string' && input[name] !== '';
    }
    const [a, b] = [before[name], after[name]];
    return typeof a === 'object' && a !== null ? JSON.stringify(a) !== JSON.stringify(b) : a !== b;
  });
}

/**
 * The aliases textarea: one alias a line, `name: address, address` (blank lines and lines
 * starting with # are skipped). A line without a colon becomes a name without addresses, so
 * that validation names it.
 */
export function aliasesFromText(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const name = (colon === -1 ? line : line.slice(0, colon)).trim().toLowerCase();
    const targets = colon === -1 ? [] : line.slice(colon + 1).split(/[,\s]+/).filter(Boolean);
    out[name] = [...(out[name] ?? []), ...targets];
  }
  return out;
}

/** The aliases as the textarea shows them. */
export function aliasesToText(aliases: Record<string, string[]>): string {
  return Object.entries(aliases)
    .map(([name, targets]) => `${name}: ${targets.join(', ')}`)
    .join('\n');
}
