/** Slows password guessing: after `max` failures from one address within the window, refuse until it passes. */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds the address must wait, or 0 when it may try. */
  retryAfter(address: string, now = Date.now()): number {
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    this.failures.set(address, recent);
    if (recent.length < this.max) return 0;
    return this.windowMs - (now - recent[0]!);
  }

  fail(address: string, now = Date.now()): void {
    this.failures.set(address, [...(this.failures.get(address) ?? []), now].slice(-this.max));
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }
}
