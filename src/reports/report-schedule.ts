import { clockIn } from '../common/timezone.js';
import { addDays, dateIn } from './report-date.js';


/**
 * Which report the daily mail should send at `now`, or null: yesterday's, once the local clock
 * has reached the chosen time, unless it went out already (a missed minute, e.g. a restart,
 * sends it later the same day instead of never).
 */
export function dueReportDate(reportTime: string, lastReportDate: string | null, timeZone: string, now: Date): string | null {
  if (clockIn(timeZone, now) < reportTime) return null;
  const date = addDays(dateIn(timeZone, now), -1);
  return lastReportDate !== null && lastReportDate >= date ? null : date;
}
