import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';

export interface DatabaseOutage {
  lostAt: Date;
  recoveredAt: Date;
  reason: string;
}

/** "Database connection lost at T, recovered at T2 (N s)", in UTC ISO form. */
export function outageMessage(o: DatabaseOutage): string {
  const seconds = Math.round((o.recoveredAt.getTime() - o.lostAt.getTime()) / 1000);
  return `Database connection lost at ${o.lostAt.toISOString()}, recovered at ${o.recoveredAt.toISOString()} (${seconds} s)`;
}

/**
 * Pings PostgreSQL every 2 s on a connection of its own (so a busy pool is not mistaken for an
 * outage). The first failed ping logs an error at once; the event log, which cannot be written
 * while the database is away, gets one warning when it answers again, with both times.
 */
@Injectable()
export class DatabaseHealthMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log: Logger;
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private lost?: { at: Date; reason: string };
  private up = true;
  intervalMs = 2000;
  timeoutMs = 3000;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly events: EventLogService,
    private readonly metrics: MetricsService,
  ) {
    this.log = root.child({ module: 'database' });
  }

  get isUp(): boolean {
    return this.up;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.dropClient();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const at = new Date();
    try {
      await this.ping();
      if (this.lost) await this.recovered(at);
      this.up = true;
      this.metrics.setDatabaseUp(true);
    } catch (err) {
      await this.dropClient();
      this.up = false;
      this.metrics.setDatabaseUp(false);
      if (!this.lost && !this.stopped) {
        this.lost = { at, reason: err instanceof Error ? err.message : String(err) };
        this.log.error({ err, lostAt: at.toISOString() }, 'Database connection lost');
      }
    }
    this.schedule(this.intervalMs);
  }

  private async ping(): Promise<void> {
    if (!this.client) {
      const url = (this.db.options as { url?: string }).url;
      const client = new pg.Client({ connectionString: url, application_name: 'postroom-health', connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
      client.on('error', () => undefined); // a dropped idle connection: the next ping reconnects
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      this.client = client;
    }
    await this.client.query('SELECT 1');
  }

  private async recovered(recoveredAt: Date): Promise<void> {
    const lost = this.lost!;
    const outage = { lostAt: lost.at, recoveredAt, reason: lost.reason };
    const message = outageMessage(outage);
    try {
      await this.events.record({
        level: 'warning',
        source: 'system',
        message,
        details: { lostAt: lost.at.toISOString(), recoveredAt: recoveredAt.toISOString(), seconds: Math.round((recoveredAt.getTime() - lost.at.getTime()) / 1000), reason: lost.reason },
      });
      this.lost = undefined;
    } catch (err) {
      // The ping answered but the pool did not yet: try the event again at the next tick.
      this.log.warn({ err }, 'database answered again but the outage could not be logged yet');
    }
  }

  private async dropClient(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
