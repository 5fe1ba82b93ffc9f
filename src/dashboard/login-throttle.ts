export interface ThrottleLimits {
  /** Attempts one address may make in the window while none succeeds. */
  perAddress: { max: number; windowMs: number };
  /** Attempts all addresses together may make in the window (every local process counts as one loopback address; a proxy's clients share its X-Forwarded-For). */
  global: { max: number; windowMs: number };
}

/** Five guesses per address in 15 minutes; ten password checks in 10 s from everyone together. */
export const LOGIN_LIMITS: ThrottleLimits = {
  perAddress: { max: 5, windowMs: 15 * 60_000 },
  global: { max: 10, windowMs: 10_000 },
};

/**
 * The address an attempt counts for: every loopback address is one (any local process may bind
 * 127.0.0.2, 127.0.0.3 …: one per guess would undo the per-address limit).
 */
const throttleKey = (address: string): string => (/^(?:127\.|::ffff:127\.)|^::1$/.test(address) ? 'loopback' : address);

/**
 * Slows password guessing. An attempt is counted when it is admitted, before its password is
 * checked: the check awaits argon2, and attempts counted only once they failed all passed the
 * test while the first ones were still being verified. In memory: a restart forgets it.
 */
export class LoginThrottle {
  /** Per address: the times of its attempts since its last success (at most perAddress.max). */
  private readonly attempts = new Map<string, number[]>();
  /** The times of the latest admitted attempts from anyone (at most global.max). */
  private recent: number[] = [];

  constructor(private readonly limits: ThrottleLimits = LOGIN_LIMITS) {}

  /**
   * Counts an attempt from the address and returns 0 when it may check its password now, or
   * the milliseconds to wait (nothing is counted then).
   */
  admit(address: string, now = Date.now()): number {
    const { perAddress, global } = this.limits;
    this.forgetBefore(now);
    const key = throttleKey(address);
    const mine = this.attempts.get(key) ?? [];
    if (mine.length >= perAddress.max) return perAddress.windowMs - (now - mine[0]!);
    if (this.recent.length >= global.max) return global.windowMs - (now - this.recent[0]!);
    this.attempts.set(key, [...mine, now]);
    this.recent.push(now);
    return 0;
  }

  /** The password was right: the address's attempts are forgotten (not the global count, which bounds the checks themselves). */
  succeeded(address: string): void {
    this.attempts.delete(throttleKey(address));
  }

  /** Drops what left the windows, so that memory stays bounded by the global limit. */
  private forgetBefore(now: number): void {
    const { perAddress, global } = this.limits;
    this.recent = this.recent.filter((t) => now - t < global.windowMs);
    for (const [address, times] of this.attempts) {
      const kept = times.filter((t) => now - t < perAddress.windowMs);
      if (kept.length) this.attempts.set(address, kept);
      else this.attempts.delete(address);
    }
  }
}

/** How long to wait, for a person: "40 second(s)" under two minutes, "15 minute(s)" above. */
export function waitText(ms: number): string {
  return ms < 120_000 ? `${Math.ceil(ms / 1000)} second(s)` : `${Math.ceil(ms / 60_000)} minute(s)`;
}
