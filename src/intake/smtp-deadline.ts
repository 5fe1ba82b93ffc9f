/**
 * The deadlines of one SMTP session. smtp-server's idle timeout starts again with every byte, so
 * a client that trickled one byte every 50 s held a session, and a place under
 * SMTP_MAX_SESSIONS, for as long as it liked. As Postfix does with smtpd_per_record_deadline and
 * smtpd_min_data_rate, a deadline here does not move for a byte:
 * - a session ends `sessionMs` after it began, whatever the client does;
 * - a DATA ends `dataMs` after the DATA command, plus one second per `minDataRate` bytes
 *   received: a client that keeps up that rate is never cut, one that trickles soon is.
 * The client is answered 421 and the connection closed; a message cut off is never queued.
 */

/** From the config: SMTP_SESSION_DEADLINE_SECONDS, SMTP_DATA_DEADLINE_SECONDS, SMTP_MIN_DATA_RATE. */
export interface SessionLimits {
  sessionMs: number;
  dataMs: number;
  /** Bytes a second. */
  minDataRate: number;
}

export type Expiry = 'session' | 'data';

/** What a deadline reads from, and does to, its connection. */
export interface DeadlineTarget {
  /** Message bytes received in the current DATA, or undefined outside DATA. */
  dataBytes(): number | undefined;
  /** The client waits for our answer (a handler, the commit of its message). */
  waitingOnUs(): boolean;
  /** Answers 421 and closes. */
  expire(why: Expiry): void;
}

/** One timer, set for the nearer deadline, and set again when it fires early (bytes came in). */
export class SessionDeadline {
  private readonly sessionEnd: number;
  private dataStart?: number;
  private timer?: NodeJS.Timeout;
  /** Passed while the client waited for us: a cut then could lose the 250 of a stored message. */
  private pending = false;
  private stopped = false;

  constructor(
    private readonly limits: SessionLimits,
    private readonly target: DeadlineTarget,
  ) {
    this.sessionEnd = Date.now() + limits.sessionMs;
    this.tick();
  }

  /** The DATA command was taken: its own deadline starts. */
  dataStarted(): void {
    this.dataStart = Date.now();
    this.tick();
  }

  /** After each reply: a deadline that waited for it takes effect, once the reply's handler has returned. */
  replied(): void {
    if (this.pending) setImmediate(() => this.tick());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private tick(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const { at, why } = this.nearest();
    const wait = at - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => this.tick(), wait);
      this.timer.unref();
      return;
    }
    this.pending = this.target.waitingOnUs();
    if (this.pending) return;
    this.stop();
    this.target.expire(why);
  }

  private nearest(): { at: number; why: Expiry } {
    const bytes = this.target.dataBytes();
    if (this.dataStart !== undefined && bytes !== undefined) {
      const dataEnd = this.dataStart + this.limits.dataMs + (bytes * 1000) / this.limits.minDataRate;
      if (dataEnd < this.sessionEnd) return { at: dataEnd, why: 'data' };
    }
    return { at: this.sessionEnd, why: 'session' };
  }
}
