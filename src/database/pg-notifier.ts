import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { Conn, Sql, sqlOf } from './sql.js';

export const CHANNELS = ['postroom_wakeup', 'postroom_settings', 'postroom_relays', 'postroom_routing'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The SQL call that notifies `channel` from inside a statement of one's own (QueueWriter's
 * composite statement, which notifies only when it leaves work for others); the caller then
 * tells this instance with notifyLocal once the statement has run. Elsewhere: PgNotifier.notify.
 */
export const notifyCall = (channel: Channel): string => `pg_notify('${channel}', '')`;

/**
 * LISTEN/NOTIFY between instances on one PostgreSQL: a dedicated connection that reconnects
 * by itself. Local listeners are also told at once by notifyLocal, without a round trip.
 * The connection lives as long as the instance does, so what must end with the instance is
 * kept on it too: statements given to keepOnSession run on every (re)connect (the delivery
 * worker's presence lock).
 */
@Injectable()
export class PgNotifier implements OnApplicationShutdown {
  private readonly emitter = new EventEmitter();
  private client?: pg.Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly session: { text: string; values: unknown[] }[] = [];
  private readonly sql: Sql;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'notifier' });
    this.emitter.setMaxListeners(100);
    this.sql = sqlOf(db);
  }

  /**
   * Tells every instance that something on `channel` changed: the other instances by NOTIFY
   * inside `tx` (PostgreSQL delivers it when the transaction commits, and drops it when it rolls
   * back), this one's listeners right after that commit, without waiting for the round trip
   * (`payload` says why, for them). Without a transaction, both at once.
   */
  async notify(channel: Channel, tx?: Conn, payload = 'local'): Promise<void> {
    await this.sql.rows(`SELECT ${notifyCall(channel)}`, [], tx);
    this.sql.afterCommit(tx, () => this.notifyLocal(channel, payload));
  }

  on(channel: Channel, listener: (payload: string) => void): void {
    this.emitter.on(channel, listener);
  }

  /**
   * Runs `text` on the dedicated connection now if it is up, and again after every reconnect.
   * One whose first column answers false (a lock the previous connection's session still holds)
   * is tried again every second on that connection until it answers true.
   */
  keepOnSession(text: string, values: unknown[]): void {
    const st = { text, values };
    this.session.push(st);
    if (this.client) void this.runSession(this.client, [st]);
  }

  private async runSession(client: pg.Client, statements: { text: string; values: unknown[] }[]): Promise<void> {
    for (const st of statements) {
      const { rows } = await client.query<Record<string, unknown>>(st.text, st.values).catch((err: unknown) => {
        this.log.warn({ err, statement: st.text }, 'session statement failed');
        return { rows: [] };
      });
      if (rows[0] && Object.values(rows[0])[0] === false) {
        this.log.warn({ statement: st.text, values: st.values }, 'session statement answered false; trying again in a second');
        setTimeout(() => {
          if (this.client === client) void this.runSession(client, [st]);
        }, 1000).unref();
      }
    }
  }

  /** This instance's listeners only: after a statement that notified the others itself (notifyCall). */
  notifyLocal(channel: Channel, payload = ''): void {
    this.emitter.emit(channel, payload);
  }

  async start(): Promise<void> {
    const options = this.db.options as { url?: string };
    const client = new pg.Client({ connectionString: options.url, application_name: 'postroom-listen' });
    client.on('notification', (n) => this.emitter.emit(n.channel, n.payload ?? ''));
    client.on('error', (err) => {
      this.log.warn({ err }, 'LISTEN connection lost');
      this.reconnectLater();
    });
    client.on('end', () => this.reconnectLater());
    try {
      await client.connect();
      await this.runSession(client, this.session);
      for (const channel of CHANNELS) await client.query(`LISTEN ${channel}`);
      if (this.stopped) throw new Error('shut down while connecting'); // ended below: it must not outlive us (nor its locks)
      this.client = client;
      // Anything may have been missed while disconnected: wake everyone up once.
      for (const channel of CHANNELS) this.emitter.emit(channel, 'reconnected');
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      if (this.stopped) return;
      this.log.warn({ err }, 'LISTEN connection failed; retrying');
      this.reconnectLater();
    }
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.client = undefined;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.start();
    }, 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
    this.emitter.removeAllListeners();
  }
}
