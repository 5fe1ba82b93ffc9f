import { InvalidInput } from '../common/domain-errors.js';
import { resolveReportDay } from './report-date.js';
import { DEFAULT_TOP, MAX_TOP } from './reports.service.js';

/** The day of a report request (today, yesterday, YYYY-MM-DD); 400 when it is none of those. */
export function parseReportDay(spec: string, timeZone: string, now = new Date()): string {
  const date = resolveReportDay(spec, timeZone, now);
  if (!date) throw new InvalidInput('Invalid report day', { date: 'must be today, yesterday or a date such as 2026-11-22' });
  return date;
}

/** ?top=N: how many rows the top-N lists have. */
export function parseTop(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_TOP;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TOP) throw new InvalidInput('Invalid query', { top: `must be a whole number from 1 to ${MAX_TOP}` });
  return n;
}

/** ?format=json (the default) or text. */
export function parseFormat(raw: unknown): 'json' | 'text' {
  if (raw === undefined || raw === '' || raw === 'json') return 'json';
  if (raw === 'text') return 'text';
  throw new InvalidInput('Invalid query', { format: 'must be json or text' });
}
