import type { Request, Response } from 'express';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter, stripControlCharacters } from '../common/control-characters.js';
import { decodeCursor, encodeCursor, isBigintKey } from '../common/pagination.js';
import type { LogPage } from '../common/keyset-page.js';
import { q, wantsFragment } from './htmx.js';
import { parseLocalDateTime } from './local-time.js';

export const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
/** An address is at most 320 characters (64 + @ + 255). */
const MAX_TEXT_FILTER = 320;

/** What the log pages share: time range, page size, and the keyset position (cursor or before). */
export interface LogQuery {
  since?: Date;
  until?: Date;
  cursor?: string;
  before?: string;
  limit: number;
  /** The form's values as the operator typed them (for the inputs and the paging links). */
  values: Record<string, string>;
  /** Field name → message, shown next to the input and in the results. */
  errors: Record<string, string>;
}

/**
 * Reads the common query of a log page without throwing: each bad field becomes a message
 * (the page answers 400 with the form, so the operator can fix it).
 */
export function readLogQuery(req: Request, timeZone: string): LogQuery {
  const errors: Record<string, string> = {};
  const values: Record<string, string> = {};
  const time = (name: 'since' | 'until'): Date | undefined => {
    const raw = q(req, name);
    if (raw === undefined) return undefined;
    values[name] = raw;
    const d = parseLocalDateTime(raw, timeZone);
    if (d === null) errors[name] = 'must be a date and time such as 2026-11-22T03:15';
    return d ?? undefined;
  };
  const since = time('since');
  const until = time('until');
  if (since && until && since >= until && !errors.since && !errors.until) errors.until = 'must be later than “From”';

  let limit = DEFAULT_PAGE_SIZE;
  const rawLimit = q(req, 'limit');
  if (rawLimit !== undefined) {
    const n = Number(rawLimit);
    if (Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE) {
      limit = n;
      if (n !== DEFAULT_PAGE_SIZE) values.limit = String(n);
    } else {
      errors.limit = `must be a whole number from 1 to ${MAX_PAGE_SIZE}`;
    }
  }

  const key = (name: 'cursor' | 'before'): string | undefined => {
    try {
      return decodeCursor(q(req, name), isBigintKey);
    } catch {
      errors[name] = 'is not a position this page gave; start again from the newest entries';
      return undefined;
    }
  };
  return { since, until, cursor: key('cursor'), before: key('before'), limit, values, errors };
}

/**
 * A free-text filter of a log page (an address): kept in the form's values, and an error when it
 * is too long or holds control characters (a NUL can be neither searched for nor shown again).
 */
export function readTextFilter(req: Request, name: string, query: LogQuery): string | undefined {
  const raw = q(req, name);
  if (raw === undefined) return undefined;
  query.values[name] = stripControlCharacters(raw);
  if (hasControlCharacter(raw)) query.errors[name] = CONTROL_CHARACTERS_REASON;
  else if (raw.length > MAX_TEXT_FILTER) query.errors[name] = 'is too long';
  return raw;
}

/** A link to this page with the given query (blank values left out). */
export function pageUrl(path: string, query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
  const s = params.toString().replace(/%3A/gi, ':'); // times stay readable: since=2026-11-22T00:00
  return s ? `${path}?${s}` : path;
}

/**
 * Newer / Older / Newest links for a page of a log, keeping the filters. Next follows the oldest
 * row shown (cursor), Prev the newest (before); a page reached with a cursor always has a newer
 * page, a page reached with `before` knows from the service.
 */
export function pagerLinks<T extends { id: string }>(path: string, filters: Record<string, string | undefined>, query: LogQuery, page: LogPage<T>) {
  const first = page.items[0];
  const hasPrev = query.before ? Boolean(page.prevCursor) : Boolean(query.cursor && first);
  const prevKey = query.before ? page.prevCursor : first ? encodeCursor(first.id) : null;
  const links = {
    nextUrl: page.nextCursor ? pageUrl(path, { ...filters, cursor: page.nextCursor }) : null,
    prevUrl: hasPrev && prevKey ? pageUrl(path, { ...filters, before: prevKey }) : null,
    newestUrl: query.cursor || (query.before && page.prevCursor) ? pageUrl(path, filters) : null,
  };
  return { ...links, pager: Boolean(links.nextUrl || links.prevUrl || links.newestUrl), clearUrl: path };
}

/** The page-size choices, with the current one selected (added when it is not a usual size). */
export function pageSizeOptions(current: number): { value: number; selected: boolean }[] {
  const sizes = PAGE_SIZES.includes(current) ? PAGE_SIZES : [...PAGE_SIZES, current].sort((a, b) => a - b);
  return sizes.map((value) => ({ value, selected: value === current }));
}

const COMMON_LABELS: Record<string, string> = { since: 'Since', until: 'Until', limit: 'Rows per page', cursor: 'Page', before: 'Page' };

/** The errors as a list for the results' summary: "From must be a date and time …". */
export function errorList(errors: Record<string, string>, labels: Record<string, string>): { field: string; label: string; message: string }[] {
  return Object.entries(errors).map(([field, message]) => ({ field, label: labels[field] ?? COMMON_LABELS[field] ?? field, message }));
}

/**
 * An htmx filter or paging request pushes its own URL; this replaces it with the tidy one (no
 * blank fields such as `address=&since=`), the same a reload or a bookmark would use.
 */
export function pushCanonicalUrl(req: Request, res: Response, path: string, filters: Record<string, string | undefined>): void {
  if (wantsFragment(req)) res.setHeader('HX-Push-Url', pageUrl(path, { ...filters, cursor: q(req, 'cursor'), before: q(req, 'before') }));
}
