import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { EventLogService } from '../events/event-log.service.js';

/** Logins from one address within this time of its first one fold into a count. */
export const LOGIN_FOLD_MS = 60 * 60_000;
/** How often ended windows are written out. */
const SWEEP_MS = 60_000;

interface Window {
  /** When the login that opened the window (and was recorded) happened. */
  since: number;
  /** Logins after it, not yet recorded. */
  more: number;
}

/**
 * Successful dashboard logins in the event log, summarised: the first login from an address is
 * recorded at once (who got in, and from where, is worth seeing straight away); the ones that
 * follow from the same address within the hour become one event with their count when the hour
 * is over. A script or a browser that logs in every few minutes thus costs the Logs page one
 * line an hour instead of dozens. Failed logins are not summarised: each stays its own warning
 * (the login throttle bounds how many there can be). In memory: a restart ends the windows,
 * writing out what they counted.
 */
@Injectable()
export class LoginEvents implements OnModuleInit, OnModuleDestroy {
  private readonly windows = new Map<string, Window>();
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly events: EventLogService) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.writeEnded(), SWEEP_MS);
    this.sweeper.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await this.writeEnded(Infinity);
  }

  /** A successful login from `client`. */
  async succeeded(client: string, now = Date.now()): Promise<void> {
    await this.writeEnded(now);
    const open = this.windows.get(client);
    if (open) {
      open.more++;
      return;
    }
    this.windows.set(client, { since: now, more: 0 });
    await this.events.recordSafely({ level: 'info', source: 'system', message: `Dashboard login from ${client}`, details: { client, actor: 'admin' } });
  }

  /** Closes the windows that are over by `now`, each with logins after its first as one event. */
  async writeEnded(now = Date.now()): Promise<void> {
    for (const [client, w] of this.windows) {
      if (now - w.since < LOGIN_FOLD_MS) continue;
      this.windows.delete(client);
      if (w.more === 0) continue;
      await this.events.recordSafely({
        level: 'info',
        source: 'system',
        message: `Dashboard login from ${client}: ${w.more} more within the hour`,
        details: { client, actor: 'admin', logins: w.more, since: new Date(w.since).toISOString() },
      });
    }
  }
}
