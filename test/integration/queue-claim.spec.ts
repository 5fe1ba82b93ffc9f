import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { ClaimedMessage, QueueRepository } from '../../src/queue/queue.repository.js';
import { QueueService } from '../../src/queue/queue.service.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { HOLD_PRESENCE, PRESENCE_LOCK_CLASS } from '../../src/queue/presence.js';
import { clearQueue, finishAttempts, livePresence, message, presenceLive, queueServices, stateOf } from './support.js';
import { wholeMessage } from '../../src/common/message-data.js';

describe('QueueRepository.claim (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let repo: QueueRepository;
  let queue: QueueService;
  let notifier: PgNotifier;
  let workers: { end: () => Promise<void> };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    ({ repo, queue, notifier } = queueServices(ds));
    // The claimers below are live workers: their leases hold until they run out.
    workers = await livePresence(ds, 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'late', 'worker-a', 'worker-b', 'short', 'other', 'leaving', 'staying', 'next');
  });

  afterAll(async () => {
    await workers?.end();
    await notifier?.onApplicationShutdown();
    await close?.();
  });

  beforeEach(async () => {
    await clearQueue(ds);
  });

  /** Inserts messages the way the intake does: through the group-committed enqueue. */
  async function enqueue(from: number, n: number): Promise<string[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => queue.enqueue(message(from + i))));
  }

  it('hands every due message to exactly one of several concurrent claimers', async () => {
    const ids = await enqueue(0, 300);
    expect(new Set(ids).size).toBe(300);

    const owners = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
    const claimedBy = new Map<string, string[]>(owners.map((o) => [o, []]));
    const bodies = new Map<string, string>();
    await Promise.all(
      owners.map(async (owner) => {
        for (;;) {
          const batch = await repo.claim(owner, 7, 600);
          if (batch.length === 0) return;
          expect(batch.length).toBeLessThanOrEqual(7);
          for (const m of batch) {
            claimedBy.get(owner)!.push(m.id);
            bodies.set(m.id, m.data!.toString());
          }
        }
      }),
    );

    const all = [...claimedBy.values()].flat();
    expect(all).toHaveLength(300); // nobody got a message twice ...
    expect(new Set(all).size).toBe(300);
    expect([...all].sort()).toEqual([...ids].sort()); // ... and nothing was missed
    // The work was really shared, not done by one claimer while the others waited.
    expect(owners.filter((o) => claimedBy.get(o)!.length > 0).length).toBeGreaterThan(1);

    // Each body came with its own message.
    const n = ids.indexOf(all[0]!);
    expect(bodies.get(all[0]!)).toBe(message(n).data.toString());

    // The database agrees: every message is being sent under the lease of the claimer that got it.
    const rows: { id: string; state: string; lease_owner: string; future: boolean }[] = await ds.query(
      `SELECT id, state, lease_owner, lease_until > now() + interval '590 seconds' AS future FROM message`,
    );
    expect(rows).toHaveLength(300);
    for (const r of rows) {
      expect(r.state).toBe('sending');
      expect(r.future).toBe(true);
      expect(claimedBy.get(r.lease_owner)).toContain(r.id);
    }
    expect(await repo.claim('late', 7, 600)).toEqual([]);
  });

  it('claims at most the limit per call and returns the message with its body and fields', async () => {
    const msgs = Array.from({ length: 10 }, (_, i) => message(1000 + i));
    const ids = await Promise.all(msgs.map((m) => queue.enqueue(m)));
    expect(ids).toEqual(msgs.map((m) => m.id));
    const first = await repo.claim('w1', 7, 600);
    expect(first).toHaveLength(7);
    const second = await repo.claim('w2', 7, 600);
    expect(second).toHaveLength(3);
    expect(await repo.claim('w3', 7, 600)).toHaveLength(0);

    const m: ClaimedMessage = [...first, ...second].find((c) => c.id === ids[4])!;
    const sent = msgs[4]!;
    expect(m).toMatchObject({
      id: sent.id,
      state: 'sending',
      sender: sent.sender,
      recipients: sent.recipients,
      subject: sent.subject,
      message_id: sent.messageId,
      size: sent.data.length,
      client_address: '127.0.0.1',
      attempts: 0,
      last_error: null,
    });
    expect(Buffer.compare(wholeMessage(m.data!), wholeMessage(sent.data))).toBe(0);
  });

  it('lets another owner take a message whose lease expired, and the first owner can then no longer finish it', async () => {
    const [id] = await enqueue(2000, 1);
    const first = await repo.claim('worker-a', 5, 600);
    expect(first.map((m) => m.id)).toEqual([id]);
    // Under a live lease nobody else gets it.
    expect(await repo.claim('worker-b', 5, 600)).toEqual([]);

    // worker-a "dies": its lease runs out.
    await ds.query(`UPDATE message SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    const second = await repo.claim('worker-b', 5, 600);
    expect(second.map((m) => m.id)).toEqual([id]);
    const [row] = (await ds.query(`SELECT lease_owner FROM message WHERE id = $1`, [id])) as { lease_owner: string }[];
    expect(row!.lease_owner).toBe('worker-b');

    // worker-a comes back and tries to record its outcome: it lost the lease, nothing changes.
    const staleDelete = await finishAttempts(ds, repo, [{ id: id!, owner: 'worker-a', pending: [], nextAttemptAt: null, lastError: null }]);
    expect(staleDelete).toEqual([]);
    const staleDefer = await finishAttempts(ds, repo, [{ id: id!, owner: 'worker-a', pending: ['x@example.net'], nextAttemptAt: new Date(Date.now() + 60_000), lastError: '451 later' }]);
    expect(staleDefer).toEqual([]);
    expect(await stateOf(ds, id!)).toBe('sending');

    // The owner of the live lease can.
    const done = await finishAttempts(ds, repo, [{ id: id!, owner: 'worker-b', pending: [], nextAttemptAt: null, lastError: null }]);
    expect(done).toEqual([id]);
    expect(await stateOf(ds, id!)).toBeUndefined();
    const bodies: unknown[] = await ds.query(`SELECT id FROM message_body WHERE id = $1`, [id]);
    expect(bodies).toEqual([]);
  });

  it("takes back at once the messages of a worker whose connection ended (its presence lock went with it), not those of a live one", async () => {
    const ids = await enqueue(2500, 2);
    const alive = await livePresence(ds, 'alive-worker');
    const dying = await livePresence(ds, 'dying-worker');
    try {
      const a = (await repo.claim('alive-worker', 1, 600))[0]?.id;
      const b = (await repo.claim('dying-worker', 1, 600))[0]?.id;
      expect([a, b].sort()).toEqual([...ids].sort());
      expect(await repo.claim('rescuer', 5, 600)).toEqual([]);

      await dying.end(); // kill -9, a lost machine: PostgreSQL ends the session and its locks
      for (let i = 0; i < 100 && (await presenceLive(ds, 'dying-worker')); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await presenceLive(ds, 'dying-worker')).toBe(false);
      expect(await presenceLive(ds, 'alive-worker')).toBe(true);

      // Long before its 600-second lease ends, the dead worker's message is claimed again; the live one's is not.
      const rescued = await repo.claim('rescuer', 5, 600);
      expect(rescued.map((m) => [m.id, m.attempts])).toEqual([[b, 0]]);
      expect(rescued[0]!.data!.toString()).toBe(message(2500 + ids.indexOf(b!)).data.toString());
      const rows: { id: string; lease_owner: string }[] = await ds.query(`SELECT id, lease_owner FROM message WHERE id = ANY($1::text[]) ORDER BY lease_owner`, [ids]);
      expect(rows).toEqual([
        { id: a, lease_owner: 'alive-worker' },
        { id: b, lease_owner: 'rescuer' },
      ]);
      // Nothing the dead worker might still say counts any more.
      expect(await finishAttempts(ds, repo, [{ id: b!, owner: 'dying-worker', pending: [], nextAttemptAt: null, lastError: null }])).toEqual([]);
      // A worker never takes its own line back, whatever its lock says.
      expect(await repo.claim('rescuer', 5, 600)).toEqual([]);
    } finally {
      await alive.end();
      await dying.end().catch(() => undefined);
    }
  });

  it('claims at most the limit across due messages and orphaned ones together, the longest waiting first', async () => {
    const ids = await enqueue(2700, 10);
    expect(await repo.claim('gone-worker', 4, 600)).toHaveLength(4); // no presence lock: orphaned at once
    await ds.query(`UPDATE message SET next_attempt_at = now() - interval '1 hour' WHERE lease_owner = 'gone-worker'`);
    const claimed = await repo.claim('w1', 7, 600);
    expect(claimed).toHaveLength(7);
    const rows: { lease_owner: string; n: number }[] = await ds.query(`SELECT lease_owner, count(*)::int AS n FROM message WHERE id = ANY($1::text[]) GROUP BY 1 ORDER BY 1`, [ids]);
    // The four orphans (due an hour ago) and three of the six new ones; three new ones left.
    expect(rows).toEqual([{ lease_owner: 'w1', n: 7 }, { lease_owner: null, n: 3 }]);
  });

  it("holds a worker's presence lock on the notifier's connection, again after a reconnect, and lets it go with that connection", async () => {
    const own = new PgNotifier(ds, silentLogger);
    own.keepOnSession(HOLD_PRESENCE, ['notifier-worker']);
    try {
      await own.start();
      const first = await holder('notifier-worker');
      expect(first).toBeGreaterThan(0);
      // The database ends that session (a restart, a failover): the notifier reconnects and takes the lock again.
      await ds.query(`SELECT pg_terminate_backend($1)`, [first]);
      let again: number | undefined;
      for (let i = 0; i < 300 && !((again = await holder('notifier-worker')) && again !== first); i++) await new Promise((r) => setTimeout(r, 20));
      expect(again).toBeGreaterThan(0);
      expect(again).not.toBe(first);
    } finally {
      await own.onApplicationShutdown();
    }
    for (let i = 0; i < 100 && (await presenceLive(ds, 'notifier-worker')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await presenceLive(ds, 'notifier-worker')).toBe(false);
  });

  /** The backend holding the presence lock of `owner`, if any. */
  async function holder(owner: string): Promise<number | undefined> {
    const rows: { pid: number }[] = await ds.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = hashtext($2)::oid AND objsubid = 2 AND granted`,
      [PRESENCE_LOCK_CLASS, owner],
    );
    return rows[0]?.pid;
  }

  it('reclaims a message once a short real lease has run out', async () => {
    const [id] = await enqueue(3000, 1);
    expect((await repo.claim('short', 5, 1)).map((m) => m.id)).toEqual([id]);
    expect(await repo.claim('other', 5, 600)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await repo.claim('other', 5, 600)).map((m) => m.id)).toEqual([id]);
    expect(await finishAttempts(ds, repo, [{ id: id!, owner: 'short', pending: [], nextAttemptAt: null, lastError: null }])).toEqual([]);
  });

  it('does not claim a deferred message before its time, and claims it once it is due', async () => {
    const [id] = await enqueue(4000, 1);
    await repo.claim('w1', 5, 600);
    const later = new Date(Date.now() + 3_600_000);
    const deferred = await finishAttempts(ds, repo, [{ id: id!, owner: 'w1', pending: ['rcpt4000@example.net'], nextAttemptAt: later, lastError: '451 4.7.1 try later' }]);
    expect(deferred).toEqual([id]);
    const [row] = (await ds.query(`SELECT state, attempts, last_error, lease_owner, lease_until FROM message WHERE id = $1`, [id])) as Record<string, unknown>[];
    expect(row).toEqual({ state: 'deferred', attempts: 1, last_error: '451 4.7.1 try later', lease_owner: null, lease_until: null });

    expect(await repo.claim('w2', 5, 600)).toEqual([]);
    const wait = await repo.secondsUntilNextDue();
    expect(wait).toBeGreaterThan(3590);
    expect(wait).toBeLessThanOrEqual(3600);

    await ds.query(`UPDATE message SET next_attempt_at = now() - interval '1 second' WHERE id = $1`, [id]);
    const claimed = await repo.claim('w2', 5, 600);
    expect(claimed.map((m) => [m.id, m.attempts])).toEqual([[id, 1]]);
  });

  it('never claims a held message, even one that is long overdue, until it is released', async () => {
    const [held, free] = await enqueue(5000, 2);
    await queue.holdOne(held!, 'test');
    await ds.query(`UPDATE message SET next_attempt_at = now() - interval '1 day' WHERE id = $1`, [held]);

    expect((await repo.claim('w1', 10, 600)).map((m) => m.id)).toEqual([free]);
    expect(await repo.claim('w1', 10, 600)).toEqual([]);
    expect(await stateOf(ds, held!)).toBe('hold');

    await queue.releaseOne(held!, 'test');
    expect((await repo.claim('w1', 10, 600)).map((m) => m.id)).toEqual([held]);
  });

  it('gives claimed messages back on releaseLeases without counting an attempt', async () => {
    const ids = await enqueue(6000, 3);
    await repo.claim('leaving', 2, 600);
    await repo.claim('staying', 1, 600);
    expect(await repo.releaseLeases('leaving')).toBe(2);
    const rows: { state: string; lease_owner: string | null; attempts: number }[] = await ds.query(
      `SELECT state, lease_owner, attempts FROM message WHERE id = ANY($1::text[]) ORDER BY state`,
      [ids],
    );
    expect(rows).toEqual([
      { state: 'queued', lease_owner: null, attempts: 0 },
      { state: 'queued', lease_owner: null, attempts: 0 },
      { state: 'sending', lease_owner: 'staying', attempts: 0 },
    ]);
    expect(await repo.claim('next', 10, 600)).toHaveLength(2);
  });
});
