import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineTarget, Expiry, SessionDeadline } from '../../src/intake/smtp-deadline.js';

/** A connection as the deadline sees it: bytes of the current DATA, whether the client waits for us. */
function connection() {
  const state = { bytes: undefined as number | undefined, waiting: false, expired: [] as { why: Expiry; at: number }[] };
  const target: DeadlineTarget = {
    dataBytes: () => state.bytes,
    waitingOnUs: () => state.waiting,
    expire: (why) => state.expired.push({ why, at: Date.now() }),
  };
  return { state, target };
}

const LIMITS = { sessionMs: 10_000, dataMs: 1_000, minDataRate: 500 };

describe('SessionDeadline: a session deadline and a minimum DATA rate', () => {
  let t0: number;
  beforeEach(() => {
    vi.useFakeTimers();
    t0 = Date.now();
  });
  afterEach(() => vi.useRealTimers());

  it('ends a session at its deadline whatever the client does, once', () => {
    const { state, target } = connection();
    new SessionDeadline(LIMITS, target);
    vi.advanceTimersByTime(9_999);
    expect(state.expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(state.expired).toEqual([{ why: 'session', at: t0 + 10_000 }]);
    vi.advanceTimersByTime(60_000);
    expect(state.expired).toHaveLength(1);
  });

  it('ends a DATA that trickles: its deadline grows by one second per minDataRate bytes only', () => {
    const { state, target } = connection();
    const deadline = new SessionDeadline(LIMITS, target);
    state.bytes = 0;
    deadline.dataStarted();
    // One byte every 300 ms: the deadline moves 2 ms a byte.
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(300);
      state.bytes++;
    }
    vi.advanceTimersByTime(100); // 1,000 ms
    expect(state.expired).toEqual([]);
    vi.advanceTimersByTime(6); // 1,000 + 3 bytes × 2 ms
    expect(state.expired).toEqual([{ why: 'data', at: t0 + 1_006 }]);
  });

  it('lets a DATA at the minimum rate or faster go on past the base deadline', () => {
    const { state, target } = connection();
    const deadline = new SessionDeadline(LIMITS, target);
    state.bytes = 0;
    deadline.dataStarted();
    for (let i = 0; i < 80; i++) {
      vi.advanceTimersByTime(100);
      state.bytes += 60; // 600 bytes a second
    }
    expect(state.expired).toEqual([]);
    state.bytes = undefined; // the final dot: DATA is over
    vi.advanceTimersByTime(1_999);
    expect(state.expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(state.expired.map((e) => e.why)).toEqual(['session']);
  });

  it('never cuts a client that waits for our answer: the cut comes right after the reply', () => {
    const { state, target } = connection();
    const deadline = new SessionDeadline(LIMITS, target);
    state.waiting = true; // the message is in and being committed
    vi.advanceTimersByTime(15_000);
    expect(state.expired).toEqual([]);
    state.waiting = false;
    deadline.replied(); // the 250 went out
    vi.advanceTimersByTime(0);
    expect(state.expired.map((e) => e.why)).toEqual(['session']);
  });

  it('does nothing once stopped (the connection closed)', () => {
    const { state, target } = connection();
    const deadline = new SessionDeadline(LIMITS, target);
    deadline.stop();
    vi.advanceTimersByTime(60_000);
    deadline.replied();
    vi.advanceTimersByTime(1);
    expect(state.expired).toEqual([]);
  });
});
