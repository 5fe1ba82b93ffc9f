/**
 * Report days: calendar dates (YYYY-MM-DD) in the appliance's time zone, and the wall-clock
 * ranges (datetime-local strings, as the mail-log page takes them) of a day and of its hours.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** True for a real calendar date written YYYY-MM-DD (years 1000 to 9999). */
export function isReportDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return year >= 1000 && d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** The date `now` falls on in a time zone. */
export function dateIn(timeZone: string, now = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** A date plus (or minus) whole days. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** 'today', 'yesterday' or YYYY-MM-DD → the date; null when it is none of those. */
export function resolveReportDay(spec: string, timeZone: string, now = new Date()): string | null {
  const value = spec.trim().toLowerCase();
  if (value === 'today') return dateIn(timeZone, now);
  if (value === 'yesterday') return addDays(dateIn(timeZone, now), -1);
  return isReportDate(value) ? value : null;
}

/** The day as a datetime-local range: since its midnight, until the next one. */
export function dayRange(date: string): { since: string; until: string } {
  return { since: `${date}T00:00`, until: `${addDays(date, 1)}T00:00` };
}

/** One hour of the day as a datetime-local range (hour 23 ends at the next midnight). */
export function hourRange(date: string, hour: number): { since: string; until: string } {
  const until = hour >= 23 ? `${addDays(date, 1)}T00:00` : `${date}T${pad(hour + 1)}:00`;
  return { since: `${date}T${pad(hour)}:00`, until };
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Sunday, 22 November 2026" (the date itself, whatever the time zone). */
export function longDate(date: string): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const d = new Date(Date.UTC(year, month - 1, day));
  return `${WEEKDAYS[d.getUTCDay()]}, ${day} ${MONTHS[month - 1]} ${year}`;
}
