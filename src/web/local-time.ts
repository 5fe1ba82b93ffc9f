/**
 * Wall-clock times in the appliance's time zone (appTimeZone()), for datetime-local inputs:
 * a browser sends "2026-11-22T03:15" with no zone, and the operator means the server's clock,
 * the one every time on the dashboard is shown in.
 */

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in a time zone at an instant. */
export function wallClock(at: Date, timeZone: string): WallClock {
  const parts = formatter(timeZone).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? NaN);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

const asUtc = (w: WallClock) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(ms: number, timeZone: string): number {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return asUtc(wallClock(d, timeZone)) - d.getTime();
}

/**
 * The instant a wall-clock time names in a time zone. Across a DST change: a time that happens
 * twice is the first one; a time that is skipped moves forward by the gap (02:30 → 03:30), as
 * the JavaScript Temporal API does.
 */
export function fromWallClock(w: WallClock, timeZone: string): Date {
  const local = asUtc(w);
  const before = offsetAt(local - 86_400_000, timeZone);
  const after = offsetAt(local + 86_400_000, timeZone);
  const candidates = [...new Set([local - before, local - after])].filter((t) => offsetAt(t, timeZone) === local - t).sort((a, b) => a - b);
  return new Date(candidates[0] ?? local - before);
}

/**
 * A time from a query string: a datetime-local value ("2026-11-22T03:15", seconds optional)
 * in the given zone, or an ISO 8601 time with its own zone ("…Z", "…+02:00"). Undefined when
 * blank, null when not a real time.
 */
export function parseLocalDateTime(raw: string | undefined, timeZone: string): Date | undefined | null {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  if (WITH_ZONE.test(value)) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = LOCAL.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || month < 1 || month > 12 || check.getUTCDate() !== day || check.getUTCMonth() !== month - 1 || hour > 23 || minute > 59 || second > 59) return null;
  return fromWallClock({ year, month, day, hour, minute, second }, timeZone);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The value for a datetime-local input: "2026-11-22T03:15" (with seconds when not zero). */
export function toDateTimeLocal(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}${w.second ? ':' + pad(w.second) : ''}`;
}

/**
 * A calendar day in the zone, `daysAgo` days before the one `now` falls on: its start and the
 * next day's start as datetime-local values, and the instants they name.
 */
export function localDay(timeZone: string, daysAgo: number, now = new Date()): { since: string; until: string; start: Date; end: Date } {
  const today = wallClock(now, timeZone);
  const day = new Date(Date.UTC(today.year, today.month - 1, today.day - daysAgo));
  const next = new Date(Date.UTC(today.year, today.month - 1, today.day - daysAgo + 1));
  const value = (d: Date) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T00:00`;
  const start = fromWallClock({ year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
  const end = fromWallClock({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate(), hour: 0, minute: 0, second: 0 }, timeZone);
  return { since: value(day), until: value(next), start, end };
}
