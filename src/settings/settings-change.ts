import { isSecretField } from '../relays/relay-secrets.js';
import type { RelayEntity } from '../relays/relay.entity.js';
import { type SettingsInput, settingsField } from './settings-fields.js';
import type { SettingsEntity } from './settings.entity.js';

/** The settings as they are kept: the settings row and the primary relay's row. */
export interface SettingsRows {
  settings: SettingsEntity;
  primary: RelayEntity;
}

/** Whether a field is kept in the primary relay's row (its secrets always are). */
export function onPrimary(name: string): boolean {
  return isSecretField(name) || settingsField(name)?.relay !== undefined;
}

/** A non-secret field's value, from the row the description keeps it in. */
export function storedValue(rows: SettingsRows, name: string): unknown {
  const column = settingsField(name)?.relay;
  return column ? rows.primary[column] : (rows.settings as unknown as Record<string, unknown>)[name];
}

/** An object's JSON with its keys in order: stored as jsonb, the aliases come back reordered. */
const sortedJson = (v: object): string => JSON.stringify(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Equal settings values: scalars, or the aliases object (compared by content, in any key order). */
export function sameValue(a: unknown, b: unknown): boolean {
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? sortedJson(a) === sortedJson(b) : a === b;
}

/**
 * Lays the input's non-secret values over copies of both rows, each where the description keeps
 * it, and names the fields whose value changed, in the input's order. Secrets are the caller's:
 * sealed for a save (changeSecrets), in clear for a test email.
 */
export function overlay(current: SettingsRows, input: SettingsInput): { next: SettingsRows; changed: string[] } {
  const next: SettingsRows = { settings: { ...current.settings }, primary: { ...current.primary } };
  const changed: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (isSecretField(name) || value === undefined || sameValue(storedValue(current, name), value)) continue;
    const column = settingsField(name)?.relay;
    if (column) (next.primary as unknown as Record<string, unknown>)[column] = value;
    else (next.settings as unknown as Record<string, unknown>)[name] = value;
    changed.push(name);
  }
  return { next, changed };
}
