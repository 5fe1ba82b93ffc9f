import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from './control-characters.js';
import { InvalidInput } from './domain-errors.js';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** `?limit=`: default 50, at most 500; anything else is a 400 naming the field. */
export function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new InvalidInput('Invalid query', { limit: `must be a whole number from 1 to ${MAX_LIMIT}` });
  }
  return n;
}

/** Cursors are opaque to clients: the last row's key, base64url-encoded. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(raw: unknown, valid: (key: string) => boolean): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = typeof raw === 'string' ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  if (!valid(key)) throw new InvalidInput('Invalid query', { cursor: 'is not a cursor this list gave' });
  return key;
}

/** Fetch limit + 1 rows; the extra row only says whether another page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

export const isBigintKey = (key: string): boolean => /^[0-9]{1,19}$/.test(key);

/** An optional ISO 8601 time in a query string. */
export function parseTime(raw: unknown, field: string): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const d = typeof raw === 'string' ? new Date(raw) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new InvalidInput('Invalid query', { [field]: 'must be an ISO 8601 date and time' });
  return d;
}

/** An optional text filter (`?address=`), trimmed; control characters are a 400 naming the field. */
export function parseText(raw: unknown, field: string): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  if (hasControlCharacter(raw)) throw new InvalidInput('Invalid query', { [field]: CONTROL_CHARACTERS_REASON });
  return raw.trim();
}

export function parseEnum<T extends string>(raw: unknown, field: string, allowed: readonly T[]): T | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  throw new InvalidInput('Invalid query', { [field]: `must be one of ${allowed.join(', ')}` });
}
