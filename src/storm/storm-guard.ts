import type { StormHold } from '../queue/queue.repository.js';

/**
 * Alert-storm decisions, in memory and per instance (no database round trip on the intake path).
 *
 * - Duplicates: messages with the same sender, recipients and subject are counted in a window
 *   that opens with the first of them and lasts `windowMinutes`. The first `maxDuplicates` go
 *   through; the rest are held for ONE digest at the end of that window.
 * - Sender rate: a sender's messages are counted in one-minute windows; past `ratePerMinute`
 *   the rest are held for a digest at the end of that minute. Held messages do not count.
 *
 * With several instances each one counts its own traffic (at most instances × the limit get
 * through); the held messages and their digests live in PostgreSQL and are shared.
 */
export interface StormSettings {
  stormWindowMinutes: number;
  stormMaxDuplicates: number;
  senderRateLimitPerMinute: number;
}

/** A run of identical messages, or a sender over its rate (as the queue stores it with a held message). */
export type StormReason = StormHold['reason'];

export type StormVerdict =
  | { hold: false }
  | {
      hold: true;
      reason: StormReason;
      /** Held messages with the same key go into one digest. */
      digestKey: string;
      /** When the digest is due (the end of the window). */
      dueAt: Date;
      /** The first message held in this window: the storm starts (one event). */
      first: boolean;
      /** The limit that was passed, for the messages people read. */
      limit: number;
      windowMinutes: number;
    };

interface Window {
  end: number;
  count: number;
  held: number;
}

const MAX_KEYS = 50_000;

export function normalizeSubject(subject: string): string {
  return subject.replace(/\s+/g, ' ').trim().toLowerCase();
}

function recipientsKey(recipients: string[]): string {
  return [...new Set(recipients.map((r) => r.toLowerCase()))].sort().join(',');
}

export class StormGuard {
  private readonly duplicates = new Map<string, Window>();
  private readonly senders = new Map<string, Window>();

  check(message: { sender: string; recipients: string[]; subject: string }, s: StormSettings, now = Date.now()): StormVerdict {
    const sender = message.sender.toLowerCase();
    const rcpts = recipientsKey(message.recipients);
    if (s.stormMaxDuplicates > 0) {
      const key = `duplicate\n${sender}\n${rcpts}\n${normalizeSubject(message.subject)}`;
      const w = this.window(this.duplicates, key, now, s.stormWindowMinutes * 60_000);
      w.count++;
      if (w.count > s.stormMaxDuplicates) {
        w.held++;
        return { hold: true, reason: 'duplicate', digestKey: `${key}\n${w.end}`, dueAt: new Date(w.end), first: w.held === 1, limit: s.stormMaxDuplicates, windowMinutes: s.stormWindowMinutes };
      }
    }
    if (s.senderRateLimitPerMinute > 0) {
      const w = this.window(this.senders, sender, now, 60_000);
      if (w.count >= s.senderRateLimitPerMinute) {
        w.held++;
        return { hold: true, reason: 'rate', digestKey: `rate\n${sender}\n${rcpts}\n${w.end}`, dueAt: new Date(w.end), first: w.held === 1, limit: s.senderRateLimitPerMinute, windowMinutes: 1 };
      }
      w.count++;
    }
    return { hold: false };
  }

  /**
   * Takes back what check() counted for a message that was then not stored (the database
   * refused it and the client was told to try again): its retry must not count twice.
   */
  forget(message: { sender: string; recipients: string[]; subject: string }, s: StormSettings, verdict: StormVerdict): void {
    const sender = message.sender.toLowerCase();
    if (s.stormMaxDuplicates > 0) {
      const w = this.duplicates.get(`duplicate\n${sender}\n${recipientsKey(message.recipients)}\n${normalizeSubject(message.subject)}`);
      if (w) {
        w.count = Math.max(0, w.count - 1);
        if (verdict.hold && verdict.reason === 'duplicate') w.held = Math.max(0, w.held - 1);
      }
    }
    if (s.senderRateLimitPerMinute > 0 && !(verdict.hold && verdict.reason === 'duplicate')) {
      const w = this.senders.get(sender);
      if (w && verdict.hold) w.held = Math.max(0, w.held - 1);
      else if (w) w.count = Math.max(0, w.count - 1);
    }
  }

  /** The open window of a key, or a new one from now. */
  private window(map: Map<string, Window>, key: string, now: number, length: number): Window {
    let w = map.get(key);
    if (!w || now >= w.end) {
      if (map.size >= MAX_KEYS) this.prune(map, now);
      w = { end: now + length, count: 0, held: 0 };
      map.set(key, w);
    }
    return w;
  }

  prune(map: Map<string, Window> | undefined = undefined, now = Date.now()): void {
    for (const m of map ? [map] : [this.duplicates, this.senders]) {
      for (const [k, w] of m) if (now >= w.end) m.delete(k);
      // Still full of open windows (a flood of distinct keys): forget the oldest rather than grow.
      if (m.size >= MAX_KEYS) for (const k of [...m.keys()].slice(0, m.size - MAX_KEYS + 1)) m.delete(k);
    }
  }
}
