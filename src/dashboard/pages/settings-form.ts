import type { SecretField } from '../../relays/relay-secrets.js';
import { type SettingsFieldName, VALUE_FIELDS } from '../../settings/settings-fields.js';
import { sameValue } from '../../settings/settings-change.js';
import type { SettingsView } from '../../settings/settings.view.js';

/** The settings fields in the order of the form (and of its confirmation), from the description. */
export const FORM_FIELDS: readonly SettingsFieldName[] = VALUE_FIELDS.map((f) => f.name as SettingsFieldName);

type ClearName = `clear${Capitalize<SecretField>}`;

/** A secret's "clear the stored one" checkbox: clearPassword, clearOauthClientSecret… */
export const clearName = (field: SecretField): ClearName => `clear${field[0]!.toUpperCase()}${field.slice(1)}` as ClearName;

/** What the form posts, as strings (no secret: a secret is never shown back), and its "clear" boxes. */
export type SettingsFormValues = Record<Exclude<SettingsFieldName, SecretField>, string> & Record<ClearName, boolean>;

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
 * SettingsService.update, each field by its kind. Pure; the service validates the result.
 *
 * - The form always sends every field, so an absent checkbox means false.
 * - Text is trimmed, but for the fields the description keeps as typed (username, From name).
 * - Relay port: blank → null (the default port of the security mode).
 * - Numbers: whole numbers written as text become numbers; anything else is passed on as text
 *   and the validation rejects it for that field.
 * - Secrets: blank keeps the stored one (left out); its "clear" checkbox sends null.
 * - Fields the form does not know (e.g. _csrf, the preset) are left out.
 */
export function formToSettingsInput(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of VALUE_FIELDS) {
    const v = field(body, f.name);
    switch (f.kind) {
      case 'flag':
        out[f.name] = checked(v);
        break;
      case 'secret': {
        const typed = v ?? '';
        if (checked(field(body, clearName(f.name)))) out[f.name] = null;
        else if ((f.trim === false ? typed : typed.trim()) !== '') out[f.name] = typed;
        break;
      }
      default:
        if (v === undefined) break;
        if (f.kind === 'port') out[f.name] = v.trim() === '' ? null : toNumber(v);
        else if (f.kind === 'number') out[f.name] = toNumber(v);
        else if (f.kind === 'aliases') out[f.name] = aliasesFromText(v);
        else out[f.name] = f.kind === 'text' && f.trim === false ? v : v.trim();
    }
  }
  return out;
}

/** The values to show in the form: what the user posted (after an error), never a secret. */
export function formValuesFromBody(body: Record<string, unknown>): SettingsFormValues {
  const values: Record<string, string | boolean> = {};
  for (const f of VALUE_FIELDS) {
    if (f.kind === 'secret') values[clearName(f.name)] = checked(field(body, clearName(f.name)));
    else values[f.name] = f.kind === 'flag' ? (checked(field(body, f.name)) ? 'true' : '') : (field(body, f.name) ?? '');
  }
  return values as SettingsFormValues;
}

/** The values to show in the form for the saved settings. */
export function formValuesFromView(view: SettingsView): SettingsFormValues {
  const values: Record<string, string | boolean> = {};
  for (const f of VALUE_FIELDS) {
    if (f.kind === 'secret') {
      values[clearName(f.name)] = false;
      continue;
    }
    const v = (view as unknown as Record<string, unknown>)[f.name];
    values[f.name] = typeof v === 'boolean' ? (v ? 'true' : '') : v === null ? '' : typeof v === 'object' ? aliasesToText(v as Record<string, string[]>) : String(v);
  }
  return values as SettingsFormValues;
}

/** Which fields an update changed, in form order, from the views before and after it. */
export function changedFields(before: SettingsView, after: SettingsView, input: Record<string, unknown>): SettingsFieldName[] {
  const shown = (view: SettingsView, name: string): unknown => (view as unknown as Record<string, unknown>)[name];
  return VALUE_FIELDS.filter((f) => {
    if (!(f.name in input)) return false;
    if (f.kind === 'secret') return input[f.name] === null ? shown(before, `${f.name}Set`) === true : typeof input[f.name] === 'string' && input[f.name] !== '';
    const [a, b] = [shown(before, f.name), shown(after, f.name)];
    return !sameValue(a, b);
  }).map((f) => f.name as SettingsFieldName);
}

/**
 * The aliases textarea: one alias a line, `name: address, address` (blank lines and lines
 * starting with # are skipped). A line without a colon becomes a name without addresses, so
 * that validation names it.
 */
function aliasesFromText(text: string): Record<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const name = (colon === -1 ? line : line.slice(0, colon)).trim().toLowerCase();
    const targets = colon === -1 ? [] : line.slice(colon + 1).split(/[,\s]+/).filter(Boolean);
    out.set(name, [...(out.get(name) ?? []), ...targets]);
  }
  // Own properties whatever the name (a line "__proto__: …" or "constructor: …" included), for validation to judge.
  return Object.fromEntries(out);
}

/** The aliases as the textarea shows them. */
function aliasesToText(aliases: Record<string, string[]>): string {
  return Object.entries(aliases)
    .map(([name, targets]) => `${name}: ${targets.join(', ')}`)
    .join('\n');
}
