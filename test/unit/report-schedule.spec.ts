import { describe, expect, it } from 'vitest';
import { clockIn } from '../../src/common/timezone.js';
import { dueReportDate } from '../../src/reports/report-schedule.js';

describe('dueReportDate', () => {
  const tz = 'Europe/Berlin';
  // 07:00 in Berlin on 22 November 2026 (CET, UTC+1) is 06:00Z.
  const at = (iso: string) => new Date(iso);

  it('is not due before the chosen local time', () => {
    expect(clockIn(tz, at('2026-11-22T05:59:00Z'))).toBe('06:59');
    expect(dueReportDate('07:00', null, tz, at('2026-11-22T05:59:59Z'))).toBeNull();
  });

  it("is due from the chosen local time on, for yesterday's date", () => {
    expect(dueReportDate('07:00', null, tz, at('2026-11-22T06:00:00Z'))).toBe('2026-11-21');
    expect(dueReportDate('07:00', '2026-11-20', tz, at('2026-11-22T15:00:00Z'))).toBe('2026-11-21');
  });

  it('is not due again once that day went out', () => {
    expect(dueReportDate('07:00', '2026-11-21', tz, at('2026-11-22T06:01:00Z'))).toBeNull();
    expect(dueReportDate('07:00', '2026-11-21', tz, at('2026-11-22T22:59:00Z'))).toBeNull();
  });

  it('uses the local clock and calendar, not UTC', () => {
    // 00:30 on the 23rd in Berlin is 23:30Z on the 22nd.
    expect(dueReportDate('00:15', '2026-11-21', tz, at('2026-11-22T23:30:00Z'))).toBe('2026-11-22');
    expect(dueReportDate('23:30', null, 'UTC', at('2026-11-22T23:29:00Z'))).toBeNull();
    expect(dueReportDate('23:30', null, 'UTC', at('2026-11-22T23:30:00Z'))).toBe('2026-11-21');
  });
});
