import { Injectable } from '@nestjs/common';
import { LogPage, keysetPage } from '../common/keyset-page.js';
import { likePattern } from '../common/like-pattern.js';
import { isBigintKey } from '../common/pagination.js';
import { purgeOlderThan } from '../database/batched-purge.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { KeysetQuery } from '../database/keyset-query.js';
import { Conn, Sql } from '../database/sql.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { MailLogEvent, NoticeKind } from './mail-log.entity.js';
import { channelIdOf, channelRecipient, channelRecipientSql } from '../common/channel-recipient.js';

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
  /** Why or who (see MailLogEntity.detail). */
  detail?: string | null;
  notice?: NoticeKind | null;
}

/**
 * A mail-log line is mail's, or a notification channel's (its recipient is channel:<id>); the
 * filter takes either, or one channel's lines by that recipient, exactly (an address filter's
 * contains-match for channel:1 would list channel:12's too).
 */
export const LINE_KINDS = ['mail', 'channel'] as const;
export type LineKind = (typeof LINE_KINDS)[number] | `channel:${number}`;
export const LINE_KIND_RULE = 'must be mail, channel or channel:<id>';

/** The filter's kind as given, or null when it is none of LINE_KIND_RULE's. */
export function parseLineKind(raw: string): LineKind | null {
  if ((LINE_KINDS as readonly string[]).includes(raw)) return raw as LineKind;
  const id = channelIdOf(raw);
  return id !== null && raw === channelRecipient(id) ? (raw as LineKind) : null;
}

export interface MailLogFilter {
  event?: MailLogEvent;
  kind?: LineKind;
  address?: string;
  /** Text anywhere in the subject, the addresses, the queue id or the Message-ID. */
  text?: string;
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
  /** A refusal's stage, a hold's reason, the operator of a release or delete. */
  detail: string | null;
  /** Postroom's own mail (on its 'received' line): dsn, digest or report. */
  notice: NoticeKind | null;
}

export const MAIL_LOG_EVENTS = ['received', 'sent', 'deferred', 'bounced', 'rejected', 'held', 'released', 'deleted', 'digested', 'test'] as const satisfies readonly MailLogEvent[];
const CHANNEL_LINE = channelRecipientSql('recipient');

const COLUMNS = 'at, queue_id, message_id, event, sender, recipient, original_recipient, relay, size, delay_ms, attempt, reply, client_address, subject, detail, notice';
const TYPED_COLUMNS =
  'at timestamptz, queue_id text, message_id text, event text, sender text, recipient text, original_recipient text, relay text, size int, delay_ms int, attempt int, reply text, client_address text, subject text, detail text, notice text';

/** The mail log (the mail_log table's owner): every reception, outcome and refusal. */
@Injectable()
export class MailLogService {
  constructor(
    private readonly sql: Sql,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Appends entries with one multi-row INSERT. The Prometheus totals follow these entries.
   * (A message's 'received' line and its attempts' lines are written by QueueWriter's statement.)
   */
  async append(entries: NewMailLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const st = new CompositeStatement();
    this.insertInto(st, 'log', entries);
    await this.sql.rows(st.text('SELECT 1'), st.params);
    this.counted(entries);
  }

  /** Appends entries inside the caller's transaction (a state change and its lines commit together); counted once it commits. */
  async appendIn(tx: Conn, entries: NewMailLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const st = new CompositeStatement();
    this.insertInto(st, 'log', entries);
    await this.sql.rows(st.text('SELECT 1'), st.params, tx);
    this.sql.afterCommit(tx, () => this.counted(entries));
  }

  /**
   * The INSERT of one fate line per row of `source`, a statement part that RETURNs message facts
   * (id, sender, recipients, "messageId", size, subject, "clientAddress"), with `detail` (a
   * placeholder) as its detail: for an action on many messages at once, whose rows never need to
   * travel to the application and back.
   */
  fatesFrom(source: string, event: 'deleted', detail: string): string {
    return `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, size, subject, client_address, detail)
            SELECT now(), id, "messageId", '${event}', sender, array_to_string(recipients, ', '), size, subject, "clientAddress", ${detail} FROM ${source}`;
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
        detail: e.detail ?? null,
        notice: e.notice ?? null,
      })),
    );
    st.with(name, `INSERT INTO mail_log (${COLUMNS}) SELECT ${COLUMNS} FROM jsonb_to_recordset(${rows}) AS v(${TYPED_COLUMNS})${onlyFor ? ` WHERE v.queue_id IN (SELECT id FROM ${onlyFor})` : ''}`);
  }

  /** Tells the metrics about entries a caller stored itself (already committed). */
  counted(entries: NewMailLogEntry[]): void {
    this.metrics.countMailLog(entries);
  }

  async list(filter: MailLogFilter): Promise<LogPage<MailLogView>> {
    const q = new KeysetQuery();
    if (filter.event) q.where(`event = ${q.p(filter.event)}`);
    if (filter.kind === 'mail') q.where(`NOT ${CHANNEL_LINE}`);
    else if (filter.kind === 'channel') q.where(CHANNEL_LINE);
    else if (filter.kind) q.where(`${CHANNEL_LINE} AND recipient = ${q.p(filter.kind)}`);
    if (filter.address) {
      const pattern = q.p(likePattern(filter.address));
      q.where(`(sender ILIKE ${pattern} OR recipient ILIKE ${pattern})`);
    }
    if (filter.text) {
      const pattern = q.p(likePattern(filter.text));
      q.where(`(subject ILIKE ${pattern} OR sender ILIKE ${pattern} OR recipient ILIKE ${pattern} OR original_recipient ILIKE ${pattern} OR queue_id ILIKE ${pattern} OR message_id ILIKE ${pattern})`);
    }
    if (filter.queueId) q.where(`queue_id = ${q.p(filter.queueId)}`);
    if (filter.since) q.where(`at >= ${q.p(filter.since)}`);
    if (filter.until) q.where(`at < ${q.p(filter.until)}`);
    const rows = await this.sql.rows<RawRow>(q.text(`SELECT id::text AS id, ${COLUMNS} FROM mail_log`, 'mail_log.id', filter), q.params);
    return keysetPage(rows, filter, toView);
  }

  /** Mail's entries of one event (a notification channel's aside) since the start of today in the given time zone. */
  async countToday(event: MailLogEvent, timeZone: string): Promise<number> {
    const rows = await this.sql.rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM mail_log WHERE event = $1 AND at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2) AND NOT ${CHANNEL_LINE}`,
      [event, timeZone],
    );
    return rows[0]?.n ?? 0;
  }

  /** The latest outcome of a mail delivery (sent, deferred or bounced; a channel's aside), for the dashboard's status. */
  async lastOutcome(): Promise<MailLogView | undefined> {
    const rows = await this.sql.rows<RawRow>(`SELECT id::text AS id, ${COLUMNS} FROM mail_log WHERE event IN ('sent', 'deferred', 'bounced') AND NOT ${CHANNEL_LINE} ORDER BY mail_log.id DESC LIMIT 1`);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** A message's whole story, oldest first: received, each attempt, the outcome. */
  async story(queueId: string): Promise<MailLogView[]> {
    const rows = await this.sql.rows<RawRow>(`SELECT id::text AS id, ${COLUMNS} FROM mail_log WHERE queue_id = $1 ORDER BY mail_log.id`, [queueId]);
    return rows.map(toView);
  }

  /** Deletes the entries older than `before` (retention), in batches; resolves with how many. */
  purgeOlderThan(before: Date): Promise<number> {
    return purgeOlderThan(this.sql, 'mail_log', before);
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
  detail: string | null;
  notice: NoticeKind | null;
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
    detail: r.detail,
    notice: r.notice,
  };
}
