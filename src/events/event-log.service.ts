import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { CompositeStatement } from '../database/composite-statement.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { LogPage, backwardPage } from '../common/keyset-page.js';
import { isBigintKey, toPage } from '../common/pagination.js';
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

/** The system event log: every state change worth an operator's eye. */
@Injectable()
export class EventLogService {
  private readonly log: Logger;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'events' });
  }

  /** Writes one event, inside the caller's transaction when a manager is given. */
  async record(event: NewEvent, manager: EntityManager = this.db.manager): Promise<void> {
    const st = new CompositeStatement();
    this.insertInto(st, 'ev', [event]);
    await manager.query(st.text('SELECT 1'), st.params);
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
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.level) add('level = ?', filter.level);
    if (filter.source) add('source = ?', filter.source);
    if (filter.since) add('at >= ?', filter.since);
    if (filter.until) add('at < ?', filter.until);
    if (filter.cursor) add('id < ?', filter.cursor);
    if (filter.before) add('id > ?', filter.before);
    params.push(filter.limit + 1);
    const rows: EventEntity[] = await this.db.query(
      `SELECT id::text AS id, at, level, source, message, details FROM event
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY event.id ${filter.before ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
      params,
    );
    if (filter.before) return backwardPage(rows, filter.limit, toEventView);
    const page = toPage(rows, filter.limit, (r) => r.id);
    return { ...page, items: page.items.map(toEventView) };
  }
}

export function toEventView(row: EventEntity): EventView {
  return { id: row.id, at: new Date(row.at).toISOString(), level: row.level, source: row.source, message: row.message, details: row.details };
}
