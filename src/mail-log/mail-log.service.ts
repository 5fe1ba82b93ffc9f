import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { LogPage, backwardPage } from '../common/keyset-page.js';
import { likePattern } from '../common/like-pattern.js';
import { isBigintKey, toPage } from '../common/pagination.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MailLogEvent } from './mail-log.entity.js';

export interface NewMailLogEntry {
  at?: Date;
  queueId: string | null;
  messageId: string | null;
  event: MailLogEvent;
  sender: string;
  recipient: string;
  /** The recipient(s) as given, when intake rewrote them (an alias, the admin address). */
  originalRecipient?: string | null;
  relay?: string | null;
  size: number;
  delayMs?: number | null;
  attempt?: number | null;
  reply?: string | null;
  clientAddress?: string | null;
  subject?: string | null;
}

export interface MailLogFilter {
  event?: MailLogEvent;
  address?: string;
  queueId?: string;
  since?: Date;
  until?: Date;
  /** Older than this id (the API's and the Next link's cursor). */
  cursor?: string;
  /** Newer than this id: the page just before, for a Prev link (the dashboard's). */
  before?: string;
  limit: number;
}

/** The JSON shape of a mail-log entry (README: JSON API). */
export interface MailLogView {
  id: string;
  at: string;
  queueId: string | null;
  messageId: string | null;
  event: MailLogEvent;
  from: string;
  to: string;
  /** The recipient(s) as given, when intake rewrote them (an alias, the admin address). */
  originalTo: string | null;
  relay: string | null;
  size: number;
  delayMs: number | null;
  attempt: number | null;
  reply: string | null;
  clientAddress: string | null;
  subject: string | null;
}

export const MAIL_LOG_EVENTS = ['received', 'sent', 'deferred', 'bounced', 'rejected'] as const;
const COLUMNS = 'at, queue_id, message_id, event, sender, recipient, original_recipient, relay, size, delay_ms, attempt, reply, client_address, subject';
const TYPED_COLUMNS =
  'at timestamptz, queue_id text, message_id text, event text, sender text, recipient text, original_recipient text, relay text, size int, delay_ms int, attempt int, reply text, client_address text, subject text';

@Injectable()
export class MailLogService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /**
   * Appends entries with one multi-row INSERT, inside the caller's transaction when given.
   * The Prometheus totals follow these entries (counted once the transaction commits).
   */
  async append(entries: NewMailLogEntry[], manager: EntityManager = this.db.manager): Promise<void> {
    if (entries.length === 0) return;
    const st = new CompositeStatement();
    this.insertInto(st, 'log', entries);
    await manager.query(st.text('SELECT 1'), st.params);
    this.metrics?.countMailLog(entries, manager.queryRunner);
  }

  /**
   * Adds the INSERT of entries to a composite statement, as the part `name`. With `onlyFor`,
   * only the entries whose queue id the part of that name returned (`RETURNING id`) are stored.
   */
  insertInto(st: CompositeStatement, name: string, entries: NewMailLogEntry[], onlyFor?: string): void {
    const now = new Date();
    const rows = st.json(
      entries.map((e) => ({
        at: e.at ?? now,
        queue_id: e.queueId,
        message_id: e.messageId,
        event: e.event,
        sender: e.sender,
        recipient: e.recipient,
        original_recipient: e.originalRecipient ?? null,
        relay: e.relay ?? null,
        size: e.size,
        delay_ms: e.delayMs ?? null,
        attempt: e.attempt ?? null,
        reply: e.reply ?? null,
        client_address: e.clientAddress ?? null,
        subject: e.subject ?? null,
      })),
    );
    st.with(name, `INSERT INTO mail_log (${COLUMNS}) SELECT ${COLUMNS} FROM jsonb_to_recordset(${rows}) AS v(${TYPED_COLUMNS})${onlyFor ? ` WHERE v.queue_id IN (SELECT id FROM ${onlyFor})` : ''}`);
  }

  /** Tells the metrics about entries a caller stored itself (already committed). */
  counted(entries: NewMailLogEntry[]): void {
    this.metrics?.countMailLog(entries, undefined);
  }

  async list(filter: MailLogFilter): Promise<LogPage<MailLogView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.event) where.push(`event = ${p(filter.event)}`);
    if (filter.address) {
      const pattern = p(likePattern(filter.address));
      where.push(`(sender ILIKE ${pattern} OR recipient ILIKE ${pattern})`);
    }
    if (filter.queueId) where.push(`queue_id = ${p(filter.queueId)}`);
    if (filter.since) where.push(`at >= ${p(filter.since)}`);
    if (filter.until) where.push(`at < ${p(filter.until)}`);
    if (filter.cursor) where.push(`id < ${p(filter.cursor)}`);
    if (filter.before) where.push(`id > ${p(filter.before)}`);
    const rows: RawRow[] = await this.db.query(
      `SELECT id::text AS id, ${COLUMNS} FROM mail_log
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY mail_log.id ${filter.before ? 'ASC' : 'DESC'} LIMIT ${p(filter.limit + 1)}`,
      params,
    );
    if (filter.before) return backwardPage(rows, filter.limit, toView);
    const page = toPage(rows, filter.limit, (r) => r.id);
    return { ...page, items: page.items.map(toView) };
  }

  /** Entries of one kind since the start of today in the given time zone. */
  async countToday(event: MailLogEvent, timeZone: string): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM mail_log WHERE event = $1 AND at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2)`,
      [event, timeZone],
    );
    return rows[0]?.n ?? 0;
  }

  /** The latest delivery outcome (sent, deferred or bounced), for the dashboard's status. */
  async lastOutcome(): Promise<MailLogView | undefined> {
    const rows: RawRow[] = await this.db.query(
      `SELECT id::text AS id, ${COLUMNS} FROM mail_log WHERE event IN ('sent', 'deferred', 'bounced') ORDER BY mail_log.id DESC LIMIT 1`,
    );
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** A message's whole story, oldest first: received, each attempt, the outcome. */
  async story(queueId: string): Promise<MailLogView[]> {
    const rows: RawRow[] = await this.db.query(
      `SELECT id::text AS id, ${COLUMNS} FROM mail_log WHERE queue_id = $1 ORDER BY mail_log.id`,
      [queueId],
    );
    return rows.map(toView);
  }
}

export const isMailLogCursor = isBigintKey;

interface RawRow {
  id: string;
  at: Date;
  queue_id: string | null;
  message_id: string | null;
  event: MailLogEvent;
  sender: string;
  recipient: string;
  original_recipient: string | null;
  relay: string | null;
  size: number;
  delay_ms: number | null;
  attempt: number | null;
  reply: string | null;
  client_address: string | null;
  subject: string | null;
}

function toView(r: RawRow): MailLogView {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    queueId: r.queue_id,
    messageId: r.message_id,
    event: r.event,
    from: r.sender,
    to: r.recipient,
    originalTo: r.original_recipient,
    relay: r.relay,
    size: r.size,
    delayMs: r.delay_ms,
    attempt: r.attempt,
    reply: r.reply,
    clientAddress: r.client_address,
    subject: r.subject,
  };
}
