import { Injectable } from '@nestjs/common';
import { Conflict, NotFound } from '../common/domain-errors.js';
import { LogPage, keysetPage } from '../common/keyset-page.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { Conn, Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { QueueActionDetails } from './queue-action-details.js';
import { QueueWriter } from './queue-writer.js';
import { fateEntries } from './received-entry.js';
import { NewMessage, QueueAction, QueueFilter, QueueRepository } from './queue.repository.js';
import { QueueEntryView, toQueueEntryView } from './queue.view.js';

/** A page of the queue, newest first (`prevCursor` only for a `before` query). */
export type QueuePage = LogPage<QueueEntryView>;

const DONE: Record<QueueAction, string> = { flush: 'flushed (due now)', hold: 'put on hold', release: 'released from hold', delete: 'deleted' };

/** Operator actions on the queue, each logged with who and how many. */
@Injectable()
export class QueueService {
  constructor(
    private readonly sql: Sql,
    private readonly repo: QueueRepository,
    private readonly writer: QueueWriter,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    private readonly mailLog: MailLogService,
  ) {}

  /**
   * Stores a message durably and resolves with its queue id only after COMMIT. Concurrent
   * callers share one statement (group commit), so one fsync serves many sessions.
   */
  enqueue(message: NewMessage): Promise<string> {
    return this.writer.enqueue(message);
  }

  async list(filter: QueueFilter): Promise<QueuePage> {
    return keysetPage(await this.repo.list(filter), filter, toQueueEntryView);
  }

  async get(id: string): Promise<QueueEntryView> {
    const row = await this.repo.get(id);
    if (!row) throw new NotFound(`No message ${id} in the queue`);
    return toQueueEntryView(row);
  }

  counts() {
    return this.repo.countByState();
  }

  /** The message as stored (its first `bytes` for a preview), while it is in the queue; NotFound after. */
  async raw(id: string, bytes?: number): Promise<Buffer> {
    const data = await this.repo.body(id, bytes);
    if (!data) throw new NotFound(`No message ${id} in the queue`);
    return data;
  }

  /** Deferred messages become due now; those being sent are tried again at once should their attempt end deferred. */
  async flushAll(actor: string): Promise<{ count: number }> {
    const count = await this.sql.transaction(async (tx) => {
      const { flushed, sending } = await this.repo.flushAll(tx);
      const also = sending ? `; ${sending} being sent, tried again at once if that attempt fails` : '';
      await this.events.record(
        { level: 'info', source: 'queue', message: `Queue flushed by ${actor}: ${flushed.length} message(s) due now${also}`, details: { actor, count: flushed.length, sending } },
        tx,
      );
      await this.notifier.notify('postroom_wakeup', tx, 'flush');
      return flushed.length;
    });
    return { count };
  }

  async deleteAll(actor: string): Promise<{ count: number }> {
    const count = await this.sql.transaction(async (tx) => {
      // One statement: the messages, their bodies and holds, and a 'deleted' line for each.
      const count = await this.repo.deleteAll(tx, (source, detail) => this.mailLog.fatesFrom(source, 'deleted', detail), actor);
      await this.events.record({ level: 'warning', source: 'queue', message: `Queue deleted by ${actor}: ${count} message(s) removed`, details: { actor, count } }, tx);
      return count;
    });
    return { count };
  }

  /**
   * One action on the selected messages, in one transaction with ONE event giving the count.
   * Messages whose state does not allow the action (or that are gone) are skipped.
   */
  async bulk(action: QueueAction, ids: string[], actor: string): Promise<{ count: number; ids: string[] }> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return { count: 0, ids: [] };
    const wakes = action === 'flush' || action === 'release';
    const changed = await this.sql.transaction(async (tx) => {
      const changed = await this.act(tx, action, wanted, actor);
      if (changed.length > 0) {
        await this.events.record(
          {
            level: action === 'delete' ? 'warning' : 'info',
            source: 'queue',
            message: `${changed.length} selected message(s) ${DONE[action]} by ${actor}`,
            details: { actor, action, count: changed.length, ids: changed } satisfies QueueActionDetails,
          },
          tx,
        );
        if (wakes) await this.notifier.notify('postroom_wakeup', tx, action);
      }
      return changed;
    });
    return { count: changed.length, ids: changed };
  }

  async flushOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'flush', 'flushed (due now)');
    return this.get(id);
  }

  async holdOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'hold', 'put on hold');
    return this.get(id);
  }

  async releaseOne(id: string, actor: string): Promise<QueueEntryView> {
    await this.one(id, actor, 'release', 'released from hold');
    return this.get(id);
  }

  async deleteOne(id: string, actor: string): Promise<{ count: number }> {
    await this.one(id, actor, 'delete', 'deleted');
    return { count: 1 };
  }

  /** The action on the queue rows, and for a hold, release or delete a mail-log line per message in the same transaction. */
  private async act(tx: Conn, action: QueueAction, ids: string[], actor: string): Promise<string[]> {
    if (action === 'flush') return this.repo.flush(tx, ids);
    const changed = await this.repo[action](tx, ids);
    const event = action === 'hold' ? 'held' : action === 'release' ? 'released' : 'deleted';
    // A hold's detail is its reason (the operator's), as storm and local-mail holds give theirs; the actor is in the reply.
    await this.mailLog.appendIn(tx, action === 'hold' ? fateEntries(changed, 'held', 'operator', `put on hold by ${actor}`) : fateEntries(changed, event, actor));
    return changed.map((m) => m.id);
  }

  /** One message: 404 when absent, 409 when its state does not allow the action. */
  private async one(id: string, actor: string, action: QueueAction, done: string): Promise<void> {
    const before = await this.repo.get(id);
    if (!before) throw new NotFound(`No message ${id} in the queue`);
    const changed = await this.sql.transaction(async (tx) => {
      const ids = await this.act(tx, action, [id], actor);
      if (ids.length === 0) return false;
      await this.events.record(
        { level: action === 'delete' ? 'warning' : 'info', source: 'queue', message: `Message ${id} ${done} by ${actor}`, details: { actor, id, action, count: 1 } satisfies QueueActionDetails },
        tx,
      );
      if (action === 'flush' || action === 'release') await this.notifier.notify('postroom_wakeup', tx, action);
      return true;
    });
    if (changed) return;
    if (action === 'release' && before.hold_reason) throw new Conflict(`Message ${id} waits for an admin address (${before.last_error ?? 'mail for a local name'}): it is released once one is set`);
    throw new Conflict(`Message ${id} is ${before.state}: cannot ${action} it now`);
  }
}
