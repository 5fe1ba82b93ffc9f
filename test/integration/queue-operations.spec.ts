import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDataSource } from '../helpers/db.js';
import { Conflict, NotFound } from '../../src/common/domain-errors.js';
import { decodeCursor } from '../../src/common/pagination.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { isQueueId, newQueueId } from '../../src/queue/queue-id.js';
import { NewMessage, QueueRepository } from '../../src/queue/queue.repository.js';
import { QueueWriter } from '../../src/queue/queue-writer.js';
import { QueueService } from '../../src/queue/queue.service.js';
import { QueueEntryView } from '../../src/queue/queue.view.js';
import { clearQueue, count, livePresence, message, queueServices } from './support.js';

interface Snapshot {
  state: string;
  due: boolean;
  attempts: number;
  last_error: string | null;
  lease_owner: string | null;
}

interface EventRow {
  level: string;
  source: string;
  message: string;
  details: Record<string, unknown>;
}

describe('QueueService operator actions (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let repo: QueueRepository;
  let writer: QueueWriter;
  let queue: QueueService;
  let notifier: PgNotifier;
  let wakeups: string[];
  let sender: { end: () => Promise<void> };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    ({ repo, writer, queue, notifier } = queueServices(ds));
    notifier.on('postroom_wakeup', (payload) => wakeups.push(payload));
    sender = await livePresence(ds, 'worker-1'); // the live worker the fixture's 'sending' message is leased to
  });

  afterAll(async () => {
    await sender?.end();
    await notifier?.onApplicationShutdown();
    await close?.();
  });

  beforeEach(async () => {
    await clearQueue(ds);
    await ds.query(`DELETE FROM event`);
    await ds.query(`DELETE FROM mail_log`);
    wakeups = [];
  });

  /** The ids of a queue in known states: two queued, two deferred an hour ahead, one held, one being sent. */
  interface Fixture {
    q1: string;
    q2: string;
    d1: string;
    d2: string;
    h1: string;
    s1: string;
  }

  async function fixture(): Promise<Fixture> {
    const ms = Array.from({ length: 6 }, (_, i) => message(i));
    await Promise.all(ms.map((m) => queue.enqueue(m)));
    const [q1, q2, d1, d2, h1, s1] = ms.map((m) => m.id) as [string, string, string, string, string, string];
    await ds.query(
      `UPDATE message SET state = 'deferred', attempts = 2, last_error = '451 4.7.1 greylisted', next_attempt_at = now() + interval '1 hour'
        WHERE id = ANY($1::text[])`,
      [[d1, d2]],
    );
    await ds.query(`UPDATE message SET state = 'hold' WHERE id = $1`, [h1]);
    await ds.query(`UPDATE message SET state = 'sending', lease_owner = 'worker-1', lease_until = now() + interval '10 minutes' WHERE id = $1`, [s1]);
    await ds.query(`DELETE FROM mail_log`);
    wakeups = [];
    return { q1, q2, d1, d2, h1, s1 };
  }

  async function snapshot(): Promise<Map<string, Snapshot>> {
    const rows: (Snapshot & { id: string })[] = await ds.query(
      `SELECT id, state, next_attempt_at <= now() AS due, attempts, last_error, lease_owner FROM message ORDER BY id`,
    );
    return new Map(rows.map(({ id, ...rest }) => [id, rest]));
  }

  /** The ids whose row differs between two snapshots (gone, new or changed). */
  function changedIds(before: Map<string, Snapshot>, after: Map<string, Snapshot>): string[] {
    const ids = new Set([...before.keys(), ...after.keys()]);
    return [...ids].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(after.get(id))).sort();
  }

  async function events(): Promise<EventRow[]> {
    return ds.query(`SELECT level, source, message, details FROM event ORDER BY id`);
  }

  async function flushedInFlight(): Promise<string[]> {
    const rows: { id: string }[] = await ds.query(`SELECT id FROM message WHERE flushed_in_flight ORDER BY id`);
    return rows.map((r) => r.id);
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(check()).toBe(true);
  }

  async function bodyIds(): Promise<string[]> {
    const rows: { id: string }[] = await ds.query(`SELECT id FROM message_body ORDER BY id`);
    return rows.map((r) => r.id);
  }

  async function expectRefusal(p: Promise<unknown>, type: typeof NotFound | typeof Conflict, message: string) {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toBe(message);
  }

  describe('flushAll', () => {
    it('makes deferred messages due now, keeps their attempts, leaves held messages alone and marks the one being sent', async () => {
      const f = await fixture();
      const before = await snapshot();
      expect(await queue.counts()).toEqual({ queued: 2, deferred: 2, hold: 1, sending: 1 });

      // The count is of the deferred messages made due; the queued ones were due already.
      expect(await queue.flushAll('alice')).toEqual({ count: 2 });

      const after = await snapshot();
      expect(changedIds(before, after)).toEqual([f.d1, f.d2].sort());
      for (const id of [f.d1, f.d2]) {
        expect(after.get(id)).toEqual({ state: 'queued', due: true, attempts: 2, last_error: '451 4.7.1 greylisted', lease_owner: null });
      }
      expect(after.get(f.h1)).toEqual(before.get(f.h1));
      expect(after.get(f.s1)).toEqual({ state: 'sending', due: true, attempts: 0, last_error: null, lease_owner: 'worker-1' });
      expect(await flushedInFlight()).toEqual([f.s1]);
      expect(await queue.counts()).toEqual({ queued: 4, deferred: 0, hold: 1, sending: 1 });

      expect(await events()).toEqual([
        {
          level: 'info',
          source: 'queue',
          message: 'Queue flushed by alice: 2 message(s) due now; 1 being sent, tried again at once if that attempt fails',
          details: { actor: 'alice', count: 2, sending: 1 },
        },
      ]);
      expect(wakeups).toEqual(['flush']);

      // A worker now gets every due message, and still neither the held nor the one being sent.
      const claimed = await repo.claim('w', 100, 600);
      expect(claimed.map((m) => m.id).sort()).toEqual([f.q1, f.q2, f.d1, f.d2].sort());
    });

    it('on an empty queue reports zero and still logs who asked', async () => {
      expect(await queue.flushAll('cron')).toEqual({ count: 0 });
      expect(await events()).toEqual([
        { level: 'info', source: 'queue', message: 'Queue flushed by cron: 0 message(s) due now', details: { actor: 'cron', count: 0, sending: 0 } },
      ]);
    });

    it('leaves a message whose attempt was in flight at the flush due at once when that attempt ends deferred, and wakes the workers', async () => {
      const [inFlight, later] = [message(1), message(2)];
      await Promise.all([queue.enqueue(inFlight), queue.enqueue(later)]);
      const claimed = await repo.claim('worker-1', 10, 600);
      expect(claimed.map((m) => m.id).sort()).toEqual([inFlight.id, later.id].sort());
      expect(await queue.flushAll('alice')).toEqual({ count: 0 });
      expect(await flushedInFlight()).toEqual([inFlight.id, later.id].sort());
      // A new claim is a new attempt: the mark does not outlive it.
      await ds.query(`UPDATE message SET lease_until = now() - interval '1 second' WHERE id = $1`, [later.id]);
      expect((await repo.claim('worker-2', 10, 600)).map((m) => m.id)).toEqual([later.id]);
      expect(await flushedInFlight()).toEqual([inFlight.id]);

      const listener = new pg.Client({ connectionString: (ds.options as { url?: string }).url });
      await listener.connect();
      try {
        const told: string[] = [];
        listener.on('notification', (n) => told.push(n.channel));
        await listener.query('LISTEN postroom_wakeup');
        const inAnHour = new Date(Date.now() + 3_600_000);
        const attempt = (id: string, owner: string) => ({ finish: { id, owner, pending: ['x@example.net'], nextAttemptAt: inAnHour, lastError: '421 try later' }, lines: [] });
        // The attempt that began before the flush fails: due now, not in an hour.
        expect(await writer.finish(attempt(inFlight.id, 'worker-1'))).toBe(true);
        expect(await snapshot()).toEqual(
          new Map([
            [inFlight.id, { state: 'deferred', due: true, attempts: 1, last_error: '421 try later', lease_owner: null }],
            [later.id, { state: 'sending', due: true, attempts: 0, last_error: null, lease_owner: 'worker-2' }],
          ]),
        );
        await until(() => told.length === 1);
        // The one claimed after the flush keeps its retry time, and tells nobody.
        expect(await writer.finish(attempt(later.id, 'worker-2'))).toBe(true);
        expect((await snapshot()).get(later.id)).toMatchObject({ state: 'deferred', due: false, attempts: 1 });
        expect(await flushedInFlight()).toEqual([]);
        await listener.query('SELECT 1'); // any notification of that commit has arrived by now
        expect(told).toEqual(['postroom_wakeup']);
      } finally {
        await listener.end();
      }
    });

    it('flushes a message whose attempt ends deferred while the flush runs (the outcome commits while the flush waits for its row)', async () => {
      const m = message(1);
      await queue.enqueue(m);
      expect((await repo.claim('worker-1', 10, 600)).map((c) => c.id)).toEqual([m.id]);
      // The attempt's outcome, in a transaction still open: the row says 'deferred' (in an hour) only once it commits.
      const outcome = new pg.Client({ connectionString: (ds.options as { url?: string }).url });
      await outcome.connect();
      try {
        await outcome.query('BEGIN');
        await outcome.query(
          `UPDATE message SET state = 'deferred', next_attempt_at = now() + interval '1 hour', attempts = attempts + 1,
                  last_error = '421 try later', lease_owner = NULL, lease_until = NULL WHERE id = $1 AND state = 'sending'`,
          [m.id],
        );
        const flushing = queue.flushAll('alice');
        const waiting = async () => (await ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`))[0].n as number;
        for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
        expect(await waiting()).toBe(1);
        await outcome.query('COMMIT');
        // The flush read the row as the attempt left it: deferred, so now due.
        expect(await flushing).toEqual({ count: 1 });
      } finally {
        await outcome.end();
      }
      expect((await snapshot()).get(m.id)).toEqual({ state: 'queued', due: true, attempts: 1, last_error: '421 try later', lease_owner: null });
      expect((await events()).at(-1)).toMatchObject({ message: 'Queue flushed by alice: 1 message(s) due now', details: { actor: 'alice', count: 1, sending: 0 } });
    });
  });

  describe('deleteAll', () => {
    it('removes queued, deferred and held messages with their bodies, and leaves the message being sent', async () => {
      const f = await fixture();
      expect(await bodyIds()).toHaveLength(6);

      expect(await queue.deleteAll('bob')).toEqual({ count: 5 });

      expect([...(await snapshot()).keys()]).toEqual([f.s1]);
      expect(await bodyIds()).toEqual([f.s1]);
      expect(await queue.counts()).toEqual({ queued: 0, deferred: 0, hold: 0, sending: 1 });
      expect(await events()).toEqual([
        { level: 'warning', source: 'queue', message: 'Queue deleted by bob: 5 message(s) removed', details: { actor: 'bob', count: 5 } },
      ]);
    });
  });

  describe('one message', () => {
    it('flushOne makes a deferred message due now and changes nothing else', async () => {
      const f = await fixture();
      const before = await snapshot();
      const view = await queue.flushOne(f.d1, 'carol');
      expect(view).toMatchObject({ id: f.d1, state: 'queued', attempts: 2, lastError: '451 4.7.1 greylisted' });
      expect(view.nextAttemptAt).not.toBeNull();
      const after = await snapshot();
      expect(changedIds(before, after)).toEqual([f.d1]);
      expect(after.get(f.d1)).toEqual({ state: 'queued', due: true, attempts: 2, last_error: '451 4.7.1 greylisted', lease_owner: null });
      expect(await events()).toEqual([
        { level: 'info', source: 'queue', message: `Message ${f.d1} flushed (due now) by carol`, details: { actor: 'carol', id: f.d1, action: 'flush', count: 1 } },
      ]);
      expect(wakeups).toEqual(['flush']);
    });

    it('flushOne accepts an already queued message and refuses held and sending ones with 409', async () => {
      const f = await fixture();
      expect((await queue.flushOne(f.q1, 'carol')).state).toBe('queued');
      const before = await snapshot();
      await expectRefusal(queue.flushOne(f.h1, 'carol'), Conflict, `Message ${f.h1} is hold: cannot flush it now`);
      await expectRefusal(queue.flushOne(f.s1, 'carol'), Conflict, `Message ${f.s1} is sending: cannot flush it now`);
      expect(changedIds(before, await snapshot())).toEqual([]);
      expect((await events()).map((e) => e.details)).toEqual([{ actor: 'carol', id: f.q1, action: 'flush', count: 1 }]);
    });

    it('holdOne holds queued and deferred messages only', async () => {
      const f = await fixture();
      const before = await snapshot();
      const q = await queue.holdOne(f.q1, 'dave');
      expect(q).toMatchObject({ id: f.q1, state: 'hold', nextAttemptAt: null });
      const d = await queue.holdOne(f.d1, 'dave');
      expect(d).toMatchObject({ id: f.d1, state: 'hold', nextAttemptAt: null, attempts: 2 });
      expect(changedIds(before, await snapshot())).toEqual([f.q1, f.d1].sort());

      const mid = await snapshot();
      await expectRefusal(queue.holdOne(f.h1, 'dave'), Conflict, `Message ${f.h1} is hold: cannot hold it now`);
      await expectRefusal(queue.holdOne(f.s1, 'dave'), Conflict, `Message ${f.s1} is sending: cannot hold it now`);
      expect(changedIds(mid, await snapshot())).toEqual([]);

      expect(await events()).toEqual([
        { level: 'info', source: 'queue', message: `Message ${f.q1} put on hold by dave`, details: { actor: 'dave', id: f.q1, action: 'hold', count: 1 } },
        { level: 'info', source: 'queue', message: `Message ${f.d1} put on hold by dave`, details: { actor: 'dave', id: f.d1, action: 'hold', count: 1 } },
      ]);
      expect(wakeups).toEqual([]);
    });

    it('releaseOne lets a held message go, due now, and refuses every other state with 409', async () => {
      const f = await fixture();
      const before = await snapshot();
      await expectRefusal(queue.releaseOne(f.q1, 'erin'), Conflict, `Message ${f.q1} is queued: cannot release it now`);
      await expectRefusal(queue.releaseOne(f.d1, 'erin'), Conflict, `Message ${f.d1} is deferred: cannot release it now`);
      await expectRefusal(queue.releaseOne(f.s1, 'erin'), Conflict, `Message ${f.s1} is sending: cannot release it now`);
      expect(changedIds(before, await snapshot())).toEqual([]);
      expect(await events()).toEqual([]);

      const view = await queue.releaseOne(f.h1, 'erin');
      expect(view).toMatchObject({ id: f.h1, state: 'queued' });
      expect(view.nextAttemptAt).not.toBeNull();
      const after = await snapshot();
      expect(changedIds(before, after)).toEqual([f.h1]);
      expect(after.get(f.h1)).toEqual({ state: 'queued', due: true, attempts: 0, last_error: null, lease_owner: null });
      expect(await events()).toEqual([
        { level: 'info', source: 'queue', message: `Message ${f.h1} released from hold by erin`, details: { actor: 'erin', id: f.h1, action: 'release', count: 1 } },
      ]);
      expect(wakeups).toEqual(['release']);
    });

    it('deleteOne removes a queued, deferred or held message with its body, and refuses one being sent', async () => {
      const f = await fixture();
      for (const id of [f.q1, f.d1, f.h1]) expect(await queue.deleteOne(id, 'frank')).toEqual({ count: 1 });
      await expectRefusal(queue.deleteOne(f.s1, 'frank'), Conflict, `Message ${f.s1} is sending: cannot delete it now`);

      const left = [f.q2, f.d2, f.s1].sort();
      expect([...(await snapshot()).keys()]).toEqual(left);
      expect(await bodyIds()).toEqual(left);
      expect(await events()).toEqual(
        [f.q1, f.d1, f.h1].map((id) => ({
          level: 'warning',
          source: 'queue',
          message: `Message ${id} deleted by frank`,
          details: { actor: 'frank', id, action: 'delete', count: 1 },
        })),
      );
    });

    it('answers 404 for an id that is not in the queue, for every action, and logs nothing', async () => {
      await fixture();
      const before = await snapshot();
      const unknown = newQueueId();
      const msg = `No message ${unknown} in the queue`;
      await expectRefusal(queue.flushOne(unknown, 'x'), NotFound, msg);
      await expectRefusal(queue.holdOne(unknown, 'x'), NotFound, msg);
      await expectRefusal(queue.releaseOne(unknown, 'x'), NotFound, msg);
      await expectRefusal(queue.deleteOne(unknown, 'x'), NotFound, msg);
      await expectRefusal(queue.get(unknown), NotFound, msg);
      expect(changedIds(before, await snapshot())).toEqual([]);
      expect(await events()).toEqual([]);
      expect(await count(ds, 'event')).toBe(0);
    });
  });

  describe('list', () => {
    /** 23 messages made one millisecond apart, so the newest has the greatest id. */
    async function many(): Promise<NewMessage[]> {
      const ms: NewMessage[] = Array.from({ length: 23 }, (_, i) =>
        message(i, {
          sender: i % 5 === 0 ? `Alerts@Example.COM` : `sender${i}@example.com`,
          recipients: i === 7 ? ['a_b@example.net', 'ops@example.net'] : i === 8 ? ['axb@example.net'] : [`rcpt${i}@example.net`],
        }),
      );
      await Promise.all(ms.map((m) => writer.enqueue(m)));
      // every third message is deferred, message 4 is held
      await ds.query(`UPDATE message SET state = 'deferred', next_attempt_at = now() + interval '5 minutes' WHERE id = ANY($1::text[])`, [
        ms.filter((_, i) => i % 3 === 0).map((m) => m.id),
      ]);
      await ds.query(`UPDATE message SET state = 'hold' WHERE id = $1`, [ms[4]!.id]);
      return ms;
    }

    async function allPages(filter: { state?: 'queued' | 'deferred' | 'hold' | 'sending'; address?: string }, limit: number) {
      const pages: QueueEntryView[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = await queue.list({ ...filter, cursor, limit });
        pages.push(page.items);
        if (page.nextCursor === null) return pages;
        cursor = decodeCursor(page.nextCursor, isQueueId);
      }
      throw new Error('paging did not end');
    }

    it('lists newest first with the queue entry fields', async () => {
      const ms = await many();
      const page = await queue.list({ limit: 50 });
      expect(page.nextCursor).toBeNull();
      expect(page.items.map((v) => v.id)).toEqual(ms.map((m) => m.id).reverse());
      const seven = page.items.find((v) => v.id === ms[7]!.id)!;
      expect(seven).toMatchObject({
        state: 'queued',
        from: 'sender7@example.com',
        to: ['a_b@example.net', 'ops@example.net'],
        size: ms[7]!.data.length,
        subject: 'Message 7',
        messageId: '<m7@example.com>',
        clientAddress: '127.0.0.1',
        attempts: 0,
        lastError: null,
      });
      expect(page.items.find((v) => v.id === ms[4]!.id)).toMatchObject({ state: 'hold', nextAttemptAt: null });
    });

    it('filters by state', async () => {
      const ms = await many();
      const deferred = ms.filter((_, i) => i % 3 === 0).map((m) => m.id).reverse();
      expect((await queue.list({ state: 'deferred', limit: 50 })).items.map((v) => v.id)).toEqual(deferred);
      expect((await queue.list({ state: 'hold', limit: 50 })).items.map((v) => v.id)).toEqual([ms[4]!.id]);
      expect((await queue.list({ state: 'sending', limit: 50 })).items).toEqual([]);
      expect((await queue.list({ state: 'queued', limit: 50 })).items).toHaveLength(23 - 8 - 1);
    });

    it('filters by sender or recipient address, case-insensitively, with LIKE wildcards taken literally', async () => {
      const ms = await many();
      const ids = async (address: string) => (await queue.list({ address, limit: 50 })).items.map((v) => v.id);
      // sender, any case
      expect(await ids('alerts@example.com')).toEqual([20, 15, 10, 5, 0].map((i) => ms[i]!.id));
      // a second recipient matches too
      expect(await ids('OPS@')).toEqual([ms[7]!.id]);
      // "_" is not "any character": a_b does not match axb
      expect(await ids('a_b')).toEqual([ms[7]!.id]);
      expect(await ids('%')).toEqual([]);
      expect(await ids('rcpt1')).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1].map((i) => ms[i]!.id));
      // combined with a state
      expect((await queue.list({ address: 'alerts@', state: 'deferred', limit: 50 })).items.map((v) => v.id)).toEqual([15, 0].map((i) => ms[i]!.id));
    });

    it('pages with the cursor over every message exactly once, newest first', async () => {
      const ms = await many();
      const pages = await allPages({}, 5);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      expect(pages.flat().map((v) => v.id)).toEqual(ms.map((m) => m.id).reverse());

      // an exact multiple of the limit ends without an empty extra page
      const bySeven = await allPages({ state: 'queued' }, 7);
      expect(bySeven.map((p) => p.length)).toEqual([7, 7]);

      // paging a filtered list
      const deferred = await allPages({ state: 'deferred' }, 3);
      expect(deferred.map((p) => p.length)).toEqual([3, 3, 2]);
      expect(deferred.flat().map((v) => v.id)).toEqual(ms.filter((_, i) => i % 3 === 0).map((m) => m.id).reverse());
    });
  });
});
