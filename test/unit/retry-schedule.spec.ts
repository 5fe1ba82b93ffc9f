import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_SECONDS, MIN_BACKOFF_SECONDS, backoffSeconds, nextAttemptAt } from '../../src/queue/retry-schedule.js';

const HOUR = 3_600_000;

describe('backoffSeconds', () => {
  it('uses Postfix defaults of 300 s minimum and 4000 s maximum', () => {
    expect(MIN_BACKOFF_SECONDS).toBe(300);
    expect(MAX_BACKOFF_SECONDS).toBe(4000);
  });

  it('waits 300 s after the first failure and doubles after each further one until the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n))).toEqual([300, 600, 1200, 2400]);
  });

  it('caps at 4000 s from the fifth failure on', () => {
    expect([5, 6, 10, 30, 31, 1000].map((n) => backoffSeconds(n))).toEqual([4000, 4000, 4000, 4000, 4000, 4000]);
  });

  it('treats zero, negative and fractional attempt numbers as the attempt rounded down, at least 1', () => {
    expect(backoffSeconds(0)).toBe(300);
    expect(backoffSeconds(-7)).toBe(300);
    expect(backoffSeconds(2.9)).toBe(600);
  });

  it('stays finite for a huge attempt count when 2^n would overflow', () => {
    expect(backoffSeconds(5000)).toBe(4000);
    expect(backoffSeconds(Number.MAX_SAFE_INTEGER)).toBe(4000);
  });

  it('honours a custom minimum and maximum when given', () => {
    expect(backoffSeconds(1, 60, 1000)).toBe(60);
    expect(backoffSeconds(3, 60, 1000)).toBe(240);
    expect(backoffSeconds(5, 60, 1000)).toBe(960);
    expect(backoffSeconds(6, 60, 1000)).toBe(1000);
  });
});

describe('nextAttemptAt', () => {
  const created = new Date('2026-03-01T12:00:00.000Z');

  it('schedules the next attempt one backoff after now when the lifetime is far from over', () => {
    const now = new Date(created.getTime() + HOUR);
    expect(nextAttemptAt(now, created, 1, 120)).toEqual(new Date(now.getTime() + 300_000));
    expect(nextAttemptAt(now, created, 3, 120)).toEqual(new Date(now.getTime() + 1_200_000));
    expect(nextAttemptAt(now, created, 9, 120)).toEqual(new Date(now.getTime() + 4_000_000));
  });

  it('clamps the next attempt to the end of the lifetime when the backoff would pass it', () => {
    const expires = created.getTime() + 5 * HOUR;
    const now = new Date(expires - 60_000);
    expect(nextAttemptAt(now, created, 5, 5)).toEqual(new Date(expires));
  });

  it('does not clamp when the backoff ends exactly at the lifetime end', () => {
    const expires = created.getTime() + 2 * HOUR;
    const now = new Date(expires - 300_000);
    expect(nextAttemptAt(now, created, 1, 2)).toEqual(new Date(expires));
  });

  it('returns null when now is exactly the end of the lifetime', () => {
    expect(nextAttemptAt(new Date(created.getTime() + 5 * HOUR), created, 1, 5)).toBeNull();
  });

  it('returns null when the lifetime has already passed', () => {
    expect(nextAttemptAt(new Date(created.getTime() + 6 * HOUR), created, 2, 5)).toBeNull();
  });

  it('returns null at once when the lifetime is zero hours', () => {
    expect(nextAttemptAt(created, created, 1, 0)).toBeNull();
  });
});
