import { describe, expect, it } from 'vitest';
import { addDays, dateIn, dayRange, hourRange, isReportDate, longDate, resolveReportDay } from '../../src/reports/report-date.js';

describe('report dates', () => {
  it('accepts only real calendar dates written YYYY-MM-DD', () => {
    expect(isReportDate('2026-11-22')).toBe(true);
    expect(isReportDate('2024-02-29')).toBe(true);
    for (const bad of ['2025-02-29', '2026-13-01', '2026-11-31', '2026-1-2', '26-11-22', 'today', '2026-11-22T00:00', '0999-01-01', '']) expect(isReportDate(bad)).toBe(false);
  });

  it('resolves today and yesterday in the given time zone, across month and year ends', () => {
    const now = new Date('2026-01-01T02:00:00Z'); // still 31 December in New York, already 1 January in Tokyo
    expect(resolveReportDay('today', 'America/New_York', now)).toBe('2025-12-31');
    expect(resolveReportDay('yesterday', 'America/New_York', now)).toBe('2025-12-30');
    expect(resolveReportDay('today', 'Asia/Tokyo', now)).toBe('2026-01-01');
    expect(resolveReportDay('Yesterday', 'Asia/Tokyo', now)).toBe('2025-12-31');
    expect(resolveReportDay('2026-11-22', 'UTC', now)).toBe('2026-11-22');
    expect(resolveReportDay('tomorrow', 'UTC', now)).toBeNull();
    expect(resolveReportDay('2026-02-30', 'UTC', now)).toBeNull();
    expect(dateIn('Asia/Kolkata', new Date('2026-11-21T18:30:00Z'))).toBe('2026-11-22');
    expect(dateIn('Asia/Kolkata', new Date('2026-11-21T18:29:59Z'))).toBe('2026-11-21');
  });

  it('adds days over month, leap-year and year boundaries', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });

  it('gives the mail-log ranges of a day and of its hours as datetime-local strings', () => {
    expect(dayRange('2026-11-30')).toEqual({ since: '2026-11-30T00:00', until: '2026-12-01T00:00' });
    expect(hourRange('2026-11-22', 0)).toEqual({ since: '2026-11-22T00:00', until: '2026-11-22T01:00' });
    expect(hourRange('2026-11-22', 9)).toEqual({ since: '2026-11-22T09:00', until: '2026-11-22T10:00' });
    expect(hourRange('2026-12-31', 23)).toEqual({ since: '2026-12-31T23:00', until: '2027-01-01T00:00' });
  });

  it('writes the day out in words', () => {
    expect(longDate('2026-11-22')).toBe('Sunday, 22 November 2026');
    expect(longDate('2024-02-29')).toBe('Thursday, 29 February 2024');
  });
});
