import { SettingsView } from './settings.view.js';

/** The settings fields in the order the form (and the confirmation) lists them. */
export const SETTINGS_FIELDS = [
  'relayHost',
  'relayPort',
  'security',
  'tlsVerify',
  'authEnabled',
  'username',
  'password',
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
] as const;

export type SettingsField = (typeof SETTINGS_FIELDS)[number];

const TEXT_FIELDS = ['relayHost', 'security', 'username', 'hostname', 'fromName', 'fromAddress', 'adminAddress', 'reportTime'] as const;
const NUMBER_FIELDS = ['timeoutSeconds', 'poolSize', 'lifetimeHours', 'delayWarningHours', 'retentionDays', 'stormWindowMinutes', 'stormMaxDuplicates', 'senderRateLimitPerMinute'] as const;
const CHECKBOX_FIELDS = ['tlsVerify', 'authEnabled', 'rewriteFrom', 'reportEnabled'] as const;

/** What the form posts, as strings: the values to show again after an error. */
export type SettingsFormValues = Record<Exclude<SettingsField, 'password'>, string> & { clearPassword: boolean };

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
  const password = field(body, 'password') ?? '';
  if (checked(field(body, 'clearPassword'))) out.password = null;
  else if (password !== '') out.password = password;
  return out;
}

/** The values to show in the form: what the user posted (after an error), never the password. */
export function formValuesFromBody(body: Record<string, unknown>): SettingsFormValues {
  const values = {} as SettingsFormValues;
  for (const name of SETTINGS_FIELDS) {
    if (name === 'password') continue;
    if ((CHECKBOX_FIELDS as readonly string[]).includes(name)) values[name] = checked(field(body, name)) ? 'true' : '';
    else values[name] = field(body, name) ?? '';
  }
  values.clearPassword = checked(field(body, 'clearPassword'));
  return values;
}

/** The values to show in the form for the saved settings. */
export function formValuesFromView(view: SettingsView): SettingsFormValues {
  const values = {} as SettingsFormValues;
  for (const name of SETTINGS_FIELDS) {
    if (name === 'password') continue;
    const v = view[name];
    values[name] = typeof v === 'boolean' ? (v ? 'true' : '') : v === null ? '' : String(v);
  }
  values.clearPassword = false;
  return values;
}

/** Which fields an update changed, in form order, from the views before and after it. */
export function changedFields(before: SettingsView, after: SettingsView, input: Record<string, unknown>): SettingsField[] {
  return SETTINGS_FIELDS.filter((name) => {
    if (!(name in input)) return false;
    if (name === 'password') return input.password === null ? before.passwordSet : typeof input.password === 'string' && input.password !== '';
    return before[name] !== after[name];
  });
}
