import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ChannelsService } from '../../src/channels/channels.service.js';
import { RulesService } from '../../src/channels/rules.service.js';
import { SecretBox } from '../../src/relays/secret-box.js';
import type { DataSource } from 'typeorm';
import { silentLogger } from '../helpers/db.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { MailLogService } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { newQueueId } from '../../src/queue/queue-id.js';
import { HOLD_PRESENCE, presenceHeld } from '../../src/queue/presence.js';
import { Finish, NewMessage, QueueRepository } from '../../src/queue/queue.repository.js';
import { CompositeStatement } from '../../src/database/composite-statement.js';
import { QueueService } from '../../src/queue/queue.service.js';
import { QueueWriter } from '../../src/queue/queue-writer.js';

/** The queue services wired by hand, as Nest would (the notifier is never started). */
export function queueServices(ds: DataSource) {
  const sql = sqlOf(ds);
  const repo = new QueueRepository(sql);
  const mailLog = new MailLogService(sql, new MetricsService(silentLogger));
  const events = new EventLogService(sql, silentLogger);
  const notifier = new PgNotifier(ds, silentLogger);
  const writer = new QueueWriter(sql, repo, mailLog, events, notifier);
  const queue = new QueueService(sql, repo, writer, events, notifier, mailLog);
  const channels = new ChannelsService(ds, sql, new SecretBox(randomBytes(32)), events, notifier);
  const rules = new RulesService(ds, sql, channels, events, notifier, silentLogger);
  return { sql, repo, mailLog, events, notifier, writer, queue, channels, rules };
}

/** A small message; ids made from distinct milliseconds sort in the order they were made. */
export function message(n: number, overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    id: newQueueId(1_760_000_000_000 + n),
    sender: `sender${n}@example.com`,
    recipients: [`rcpt${n}@example.net`],
    subject: `Message ${n}`,
    messageId: `<m${n}@example.com>`,
    clientAddress: '127.0.0.1',
    data: Buffer.from(`Subject: Message ${n}\r\n\r\nbody ${n}\r\n`),
    ...overrides,
  };
}

/** Empties the queue: messages and the rows that belong to them (no foreign key deletes those: see queue/message-dependents.ts). */
export async function clearQueue(ds: DataSource): Promise<void> {
  await ds.query(`DELETE FROM message; DELETE FROM message_body; DELETE FROM storm_hold`);
}

export async function stateOf(ds: DataSource, id: string): Promise<string | undefined> {
  const rows: { state: string }[] = await ds.query(`SELECT state FROM message WHERE id = $1`, [id]);
  return rows[0]?.state;
}

export async function count(ds: DataSource, table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const rows: { n: number }[] = await ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return rows[0]!.n;
}

/**
 * Workers that are alive, as far as claims can tell: a connection of their own holding each
 * owner's presence lock (see presence.ts), the way a running instance's notifier holds its own.
 * end() is the workers' death.
 */
export async function livePresence(ds: DataSource, ...owners: string[]): Promise<{ end: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: (ds.options as { url?: string }).url });
  await client.connect();
  for (const owner of owners) await client.query(HOLD_PRESENCE, [owner]);
  return { end: () => client.end() };
}

/** Whether the presence lock of `owner` is held by some session (see presence.ts). */
export async function presenceLive(ds: DataSource, owner: string): Promise<boolean> {
  const rows: { live: boolean }[] = await ds.query(`SELECT ${presenceHeld('$1::text')} AS live`, [owner]);
  return rows[0]!.live;
}

/** Ends attempts on their own, with the queue's SQL (QueueWriter adds the mail log to it): the ids whose lease was still ours. */
export async function finishAttempts(ds: DataSource, repo: QueueRepository, finishes: Finish[]): Promise<string[]> {
  const st = new CompositeStatement();
  const mine = repo.finishInto(st, finishes);
  const rows: { id: string }[] = await ds.query(st.text(`SELECT id FROM ${mine}`), st.params);
  return rows.map((r) => r.id);
}
