import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../common/batcher.js';
import { Page, encodeCursor, toPage } from '../common/pagination.js';
import { CompositeStatement } from '../database/composite-statement.js';
import { preparedRows } from '../database/sql.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import type { Dispatcher } from './dispatcher.js';
import { ClaimedMessage, NewMessage, QueueAction, QueueFilter, QueueRepository } from './queue.repository.js';
import { receivedEntry } from './received-entry.js';
import { QueueEntryView, toQueueEntryView } from './queue.view.js';

/**
 * A page of the queue, newest first. `prevCursor` (a `before` value for the page of newer
 * messages) is only set for a `before` query, so the API's answers keep their shape.
 */
export interface QueuePage extends Page<QueueEntryView> {
  prevCursor?: string | null;
}

const DONE: Record<QueueAction, string> = { flush: 'flushed (due now)', hold: 'put on hold', release: 'released from hold', delete: 'deleted' };

/** Operator actions on the queue, each logged with who and how many. */
@Injectable()
export class QueueService {
  private readonly intake: Batcher<NewMessage, string>;
  private dispatcher?: Dispatcher;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly repo: QueueRepository,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
  ) {
    this.intake = new Batcher((batch) => this.commit(batch), { maxBatch: 200, maxConcurrent: 2 });
  }

  /**
   * Stores a message durably and resolves with its queue id only after COMMIT. Concurrent
   * callers share one transaction (group commit), so one fsync serves many sessions.
   */
  enqueue(message: NewMessage): Promise<string> {
    return this.intake.add(message);
  }

  /** New messages go straight to this worker, as far as it has room (see Dispatcher). */
  attachDispatcher(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  /**
   * One statement for the whole batch: messages, bodies and their 'received' lines as
   * data-modifying CTEs, which commit atomically on their own: one round trip instead of BEGIN,
   * three INSERTs and COMMIT. What the local worker takes is committed claimed and handed over
   * after the commit; only when some messages are left 'queued' does a NOTIFY tell the others.
   */
  private async commit(batch: NewMessage[]): Promise<string[]> {
    const now = new Date();
    const d = this.dispatcher;
    const taken = d ? d.reserve(batch.length) : 0;
    const entries = batch.map((m) => receivedEntry(m, now));
    const st = new CompositeStatement();
    this.repo.insertInto(st, batch, now, d && taken ? { owner: d.owner, leaseSeconds: d.leaseSeconds, count: taken } : undefined);
    this.mailLog.insertInto(st, 'received', entries);
    const queued = taken < batch.length;
    try {
      await preparedRows(this.db, st.text(`SELECT pg_notify('postroom_wakeup', '') WHERE ${st.p(queued, 'boolean')}`), st.params);
    } catch (err) {
      if (taken) d!.cancel(taken);
      throw err;
    }
    this.mailLog.counted(entries);
    if (taken) d!.take(batch.slice(0, taken).map((m) => claimedNow(m, now)));
    if (queued) this.notifier.notifyLocal('postroom_wakeup', 'local');
    return batch.map((m) => m.id);
  }

  async list(filter: QueueFilter): Promise<QueuePage> {
    const rows = await this.repo.list(filter);
    if (filter.before) {
      // Oldest first from the repository: the extra row (if any) is the newest and says a newer page exists.
      const items = rows.slice(0, filter.limit).reverse();
      const newest = items[0];
      const oldest = items[items.length - 1];
      return {
        items: items.map(toQueueEntryView),
        nextCursor: oldest ? encodeCursor(oldest.id) : null,
        prevCursor: rows.length > filter.limit && newest ? encodeCursor(newest.id) : null,
      };
    }
    const page = toPage(rows, filter.limit, (r) => r.id);
    return { ...page, items: page.items.map(toQueueEntryView) };
  }

  async get(id: string): Promise<QueueEntryView> {
    const row = await this.repo.get(id);
    if (!row) throw new NotFoundException({ message: `No message ${id} in the queue` });
    return toQueueEntryView(row);
  }

  counts() {
    return this.repo.countByState();
  }

  async flushAll(actor: string): Promise<{ count: number }> {
    const ids = await this.db.transaction(async (tx) => {
      const ids = await this.repo.flush(tx);
      await this.events.record({ level: 'info', source: 'queue', message: `Queue flushed by ${actor}: ${ids.length} message(s) due now`, details: { actor, count: ids.length } }, tx);
      await tx.query(`SELECT pg_notify('postroom_wakeup', '')`);
      return ids;
    });
    this.notifier.notifyLocal('postroom_wakeup', 'flush');
    return { count: ids.length };
  }

  async deleteAll(actor: string): Promise<{ count: number }> {
    const ids = await this.db.transaction(async (tx) => {
      const ids = await this.repo.delete(tx);
      await this.events.record({ level: 'warning', source: 'queue', message: `Queue deleted by ${actor}: ${ids.length} message(s) removed`, details: { actor, count: ids.length } }, tx);
      return ids;
    });
    return { count: ids.length };
  }

  /**
   * One action on the selected messages, in one transaction with ONE event giving the count.
   * Messages whose state does not allow the action (or that are gone) are skipped.
   */
  async bulk(action: QueueAction, ids: string[], actor: string): Promise<{ count: number; ids: string[] }> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return { count: 0, ids: [] };
    const wakes = action === 'flush' || action === 'release';
    const changed = await this.db.transaction(async (tx) => {
      const changed = await this.repo[action](tx, wanted);
      if (changed.length > 0) {
        await this.events.record(
          {
            level: action === 'delete' ? 'warning' : 'info',
            source: 'queue',
            message: `${changed.length} selected message(s) ${DONE[action]} by ${actor}`,
            details: { actor, action, count: changed.length, ids: changed },
          },
          tx,
        );
        if (wakes) await tx.query(`SELECT pg_notify('postroom_wakeup', '')`);
      }
      return changed;
    });
    if (wakes && changed.length > 0) this.notifier.notifyLocal('postroom_wakeup', action);
    return { count: changed.length, ids: changed };
  }

  async flushOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'flush', 'flushed (due now)');
    this.notifier.notifyLocal('postroom_wakeup', 'flush');
    return this.get(id);
  }

  async holdOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'hold', 'put on hold');
    return this.get(id);
  }

  async releaseOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'release', 'released from hold');
    this.notifier.notifyLocal('postroom_wakeup', 'release');
    return this.get(id);
  }

  async deleteOne(id: string, actor: string): Promise<{ count: number }> {
    await this.one(id, actor, 'delete', 'deleted');
    return { count: 1 };
  }

  /** One message: 404 when absent, 409 when its state does not allow the action. */
  private async one(id: string, actor: string, action: QueueAction, done: string): Promise<void> {
    const before = await this.repo.get(id);
    if (!before) throw new NotFoundException({ message: `No message ${id} in the queue` });
    const changed = await this.db.transaction(async (tx) => {
      const ids = await this.repo[action](tx, [id]);
      if (ids.length === 0) return false;
      await this.events.record(
        { level: action === 'delete' ? 'warning' : 'info', source: 'queue', message: `Message ${id} ${done} by ${actor}`, details: { actor, id, action, count: 1 } },
        tx,
      );
      if (action === 'flush' || action === 'release') await tx.query(`SELECT pg_notify('postroom_wakeup', '')`);
      return true;
    });
    if (!changed) throw new ConflictException({ message: `Message ${id} is ${before.state}: cannot ${action} it now` });
  }
}

/** A message just committed as claimed, as a claim would have read it back. */
function claimedNow(m: NewMessage, now: Date): ClaimedMessage {
  return {
    id: m.id,
    state: 'sending',
    sender: m.sender,
    recipients: m.recipients,
    subject: m.subject,
    message_id: m.messageId,
    size: m.data.length,
    client_address: m.clientAddress,
    created_at: now,
    next_attempt_at: now,
    attempts: 0,
    last_error: null,
    data: m.data,
  };
}
