import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LogPage, keysetPage } from '../common/keyset-page.js';
import { isBigintKey } from '../common/pagination.js';
import { purgeOlderThan } from '../database/batched-purge.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { KeysetQuery } from '../database/keyset-query.js';
import { Conn, Sql } from '../database/sql.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { EventEntity, EventLevel, EventSource } from './event.entity.js';

export interface NewEvent {
  level: EventLevel;
  source: EventSource;
  message: string;
  details?: Record<string, unknown>;
}

export interface EventFilter {
  level?: EventLevel;
  source?: string;
  /** Only events whose details say this `kind` (e.g. 'policy'). */
  kind?: string;
  since?: Date;
  until?: Date;
  /** Older than this id (the API's and the Next link's cursor). */
  cursor?: string;
  /** Newer than this id: the page just before, for a Prev link (the dashboard's). */
  before?: string;
  limit: number;
}

export interface EventView {
  id: string;
  at: string;
  level: EventLevel;
  source: string;
  message: string;
  details: Record<string, unknown>;
}

export const isEventCursor = isBigintKey;

/** The system event log (the event table's owner): every state change worth an operator's eye. */
@Injectable()
export class EventLogService {
  private readonly log: Logger;

  constructor(
    private readonly sql: Sql,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'events' });
  }

  /** Writes one event, inside the caller's transaction when one is given (any TypeORM transaction's manager). */
  async record(event: NewEvent, tx?: Conn): Promise<void> {
    const st = new CompositeStatement();
    this.insertInto(st, 'ev', [event]);
    await this.sql.rows(st.text('SELECT 1'), st.params, tx);
    this.written([event]);
  }

  /**
   * Adds the INSERT of events to a composite statement, as the part `name`. With `onlyFor`,
   * only the events whose `queueId` the part of that name returned (`RETURNING id`) are stored.
   * The caller logs them with `written` once the statement has run.
   */
  insertInto(st: CompositeStatement, name: string, events: (NewEvent & { queueId?: string })[], onlyFor?: string): void {
    const rows = st.json(events.map((e) => ({ level: e.level, source: e.source, message: e.message, details: e.details ?? {}, queue_id: e.queueId ?? null })));
    st.with(
      name,
      `INSERT INTO event (level, source, message, details) SELECT level, source, message, details FROM jsonb_to_recordset(${rows}) AS e(level text, source text, message text, details jsonb, queue_id text)` +
        (onlyFor ? ` WHERE e.queue_id IN (SELECT id FROM ${onlyFor})` : ''),
    );
  }

  /** The log line of each stored event (pino at the event's level). */
  written(events: NewEvent[]): void {
    for (const event of events) {
      const pinoLevel = event.level === 'warning' ? 'warn' : event.level;
      this.log[pinoLevel]({ source: event.source, ...event.details }, event.message);
    }
  }

  /** Like record, but never throws: for paths where the event log must not break the work. */
  async recordSafely(event: NewEvent): Promise<void> {
    await this.record(event).catch((err: unknown) => this.log.error({ err, event }, 'could not write to the event log'));
  }

  async list(filter: EventFilter): Promise<LogPage<EventView>> {
    const q = new KeysetQuery();
    if (filter.level) q.where(`level = ${q.p(filter.level)}`);
    if (filter.source) q.where(`source = ${q.p(filter.source)}`);
    if (filter.kind) q.where(`details->>'kind' = ${q.p(filter.kind)}`);
    if (filter.since) q.where(`at >= ${q.p(filter.since)}`);
    if (filter.until) q.where(`at < ${q.p(filter.until)}`);
    const rows = await this.sql.rows<EventEntity>(q.text('SELECT id::text AS id, at, level, source, message, details FROM event', 'event.id', filter), q.params);
    return keysetPage(rows, filter, toEventView);
  }

  /** Deletes the events older than `before` (retention), in batches; resolves with how many. */
  purgeOlderThan(before: Date): Promise<number> {
    return purgeOlderThan(this.sql, 'event', before);
  }
}

export function toEventView(row: EventEntity): EventView {
  return { id: row.id, at: new Date(row.at).toISOString(), level: row.level, source: row.source, message: row.message, details: row.details };
}
