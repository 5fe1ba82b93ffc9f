import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BounceNotifier } from '../../src/delivery/bounce-notifier.js';
import { AttemptOutcome } from '../../src/delivery/outcome.js';
import { OutcomeRecorder } from '../../src/delivery/outcome.recorder.js';
import type { Dispatcher } from '../../src/queue/dispatcher.js';
import { ClaimedMessage } from '../../src/queue/queue.repository.js';
import { MessageData, STREAMED_BODY_BYTES, wholeMessage } from '../../src/common/message-data.js';
import { createHash, randomBytes } from 'node:crypto';
import { openTestDataSource } from '../helpers/db.js';
import { clearQueue, count, livePresence, message, queueServices } from './support.js';

/** A dispatcher that takes up to `room` messages and keeps what it was handed. */
class Taker implements Dispatcher {
  readonly owner = 'taker:1';
  readonly leaseSeconds = 120;
  readonly taken: ClaimedMessage[] = [];
  reserved = 0;
  constructor(public room: number) {}
  reserve(n: number): number {
    const k = Math.min(n, this.room - this.reserved - this.taken.length);
    this.reserved += k;
    return k;
  }
  take(messages: ClaimedMessage[]): void {
    this.reserved -= messages.length;
    this.taken.push(...messages);
  }
  cancel(n: number): void {
    this.reserved -= n;
  }
}

describe('group-committed statements on a real PostgreSQL', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let services: ReturnType<typeof queueServices>;

  /** Runs `fn` with a Taker of `room` as the writer's dispatcher, then puts back one that takes nothing. */
  async function withTaker(room: number, fn: (taker: Taker) => Promise<void>): Promise<void> {
    const taker = new Taker(room);
    services.writer.attachDispatcher(taker);
    try {
      await fn(taker);
    } finally {
      services.writer.attachDispatcher(new Taker(0));
    }
  }
  let recorder: OutcomeRecorder;
  let workers: { end: () => Promise<void> };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    // The owners below are live workers: what they hold stays theirs while their leases last.
    workers = await livePresence(ds, 'taker:1', 'w1', 'w2', 'other');
    // Notices are BounceNotifier's business (bounce-notices.spec); here they only must not fail.
    const notices = { afterAttempt: async () => undefined } as unknown as BounceNotifier;
    recorder = new OutcomeRecorder(services.writer, notices, services.channels);
  });
  afterAll(async () => {
    await workers?.end();
    await services.notifier.onApplicationShutdown();
    await close?.();
  });
  beforeEach(async () => {
    await clearQueue(ds);
    await ds.query(`DELETE FROM mail_log`);
    await ds.query(`DELETE FROM event`);
  });

  describe('QueueWriter.enqueue with a dispatcher (intake handoff)', () => {
    it('commits what the dispatcher takes as claimed under its lease and hands it over; the rest is queued', async () => {
      await withTaker(3, async (taker) => {
        const batch = Array.from({ length: 8 }, (_, i) => message(100 + i));
        const ids = await Promise.all(batch.map((m) => services.queue.enqueue(m)));
        expect(ids).toEqual(batch.map((m) => m.id));
        expect(taker.reserved).toBe(0);
        expect(taker.taken).toHaveLength(3);
        const rows: { id: string; state: string; lease_owner: string | null; in_lease: boolean }[] = await ds.query(
          `SELECT id, state, lease_owner, lease_until > now() + interval '100 seconds' AS in_lease FROM message ORDER BY id`,
        );
        const handed = new Set(taker.taken.map((m) => m.id));
        for (const r of rows) {
          if (handed.has(r.id)) expect(r).toMatchObject({ state: 'sending', lease_owner: 'taker:1', in_lease: true });
          else expect(r).toMatchObject({ state: 'queued', lease_owner: null });
        }
        // What was handed over is what a claim would have read, body included.
        for (const m of taker.taken) {
          const original = batch.find((b) => b.id === m.id)!;
          expect(m).toMatchObject({ state: 'sending', sender: original.sender, recipients: original.recipients, subject: original.subject, message_id: original.messageId, size: original.data.length, attempts: 0 });
          expect(Buffer.compare(wholeMessage(m.data!), wholeMessage(original.data))).toBe(0);
        }
        expect(await count(ds, 'mail_log', `event = 'received'`)).toBe(8);
        // Nobody else can claim the handed-over messages while the lease lasts.
        expect((await services.repo.claim('other', 100, 60)).map((m) => m.id).sort()).toEqual(ids.filter((id) => !handed.has(id)).sort());
      });
    });

    it('gives the reservation back when the commit fails, and stores nothing', async () => {
      await withTaker(5, async (taker) => {
        const m = message(200);
        await services.queue.enqueue(m);
        // The same id again: the primary key refuses the whole statement.
        await expect(services.queue.enqueue({ ...m, subject: 'again' })).rejects.toThrow();
        expect(taker.reserved).toBe(0);
        expect(taker.taken).toHaveLength(1);
        expect(await count(ds, 'mail_log', `event = 'received'`)).toBe(1);
      });
    });

    it('stores text that PostgreSQL would refuse in jsonb (NUL, a lone surrogate) with a replacement character', async () => {
      const id = await services.queue.enqueue(message(300, { subject: 'disk\u0000 sda \ud800failing' }));
      const [row] = (await ds.query(`SELECT subject FROM message WHERE id = $1`, [id])) as { subject: string }[];
      expect(row!.subject).toBe('disk\ufffd sda \ufffdfailing');
    });
  });

  describe('big bodies (past STREAMED_BODY_BYTES): stored with COPY, read back in slices', () => {
    const bigMessage = (n: number) => message(n, { data: Buffer.concat([Buffer.from(`Subject: big ${n}\r\n\r\n`), randomBytes(STREAMED_BODY_BYTES * 2 + 12_345)]) });

    it('stores the body byte for byte; a claim leaves it out, loadBody reads it back', async () => {
      const big = bigMessage(5000);
      const small = message(5001);
      await Promise.all([services.queue.enqueue(big), services.queue.enqueue(small)]);
      const [stored] = (await ds.query(`SELECT octet_length(data) AS n, md5(data) AS md5 FROM message_body WHERE id = $1`, [big.id])) as { n: number; md5: string }[];
      expect(stored).toEqual({ n: big.data.length, md5: createHash('md5').update(wholeMessage(big.data)).digest('hex') });
      expect(await count(ds, 'mail_log', `event = 'received' AND queue_id = $1 AND size = $2`, [big.id, big.data.length])).toBe(1);

      const claimed = await services.repo.claim('w1', 10, 600);
      expect(claimed.find((m) => m.id === big.id)).toMatchObject({ size: big.data.length, data: null });
      expect(wholeMessage(claimed.find((m) => m.id === small.id)!.data!).equals(wholeMessage(small.data))).toBe(true);
      expect((await services.repo.loadBody(big.id, big.data.length)).equals(wholeMessage(big.data))).toBe(true);
    });

    it('hands a big message over with its body, and stores nothing when the commit fails', async () => {
      await withTaker(5, async (taker) => {
        const big = bigMessage(6000);
        await services.queue.enqueue(big);
        expect(taker.taken.map((m) => m.id)).toEqual([big.id]);
        expect(wholeMessage(taker.taken[0]!.data!).equals(wholeMessage(big.data))).toBe(true);
        expect(await count(ds, 'message', `id = $1 AND state = 'sending' AND lease_owner = 'taker:1'`, [big.id])).toBe(1);

        await expect(services.queue.enqueue({ ...bigMessage(6001), id: big.id })).rejects.toThrow();
        expect(taker.reserved).toBe(0);
        expect(await count(ds, 'mail_log', `event = 'received' AND queue_id = $1`, [big.id])).toBe(1);
      });
    });
  });

  describe('OutcomeRecorder.record, many attempts in one statement', () => {
    async function claimAll(n: number, owner: string): Promise<(ClaimedMessage & { data: MessageData })[]> {
      await Promise.all(Array.from({ length: n }, (_, i) => services.queue.enqueue(message(1000 + i, { recipients: [`a${i}@example.net`, `b${i}@example.net`] }))));
      return (await services.repo.claim(owner, n, 600)).map((m) => ({ ...m, data: m.data! }));
    }
    const sent = (m: ClaimedMessage): AttemptOutcome => ({ relay: 'relay:25', recipients: m.recipients.map((r) => ({ recipient: r, status: 'sent', reply: '250 ok', code: 250 })) });
    const deferred = (m: ClaimedMessage): AttemptOutcome => ({ relay: 'relay:25', recipients: m.recipients.map((r) => ({ recipient: r, status: 'deferred', reply: '451 4.7.1 later', code: 451 })) });
    const mixed = (m: ClaimedMessage): AttemptOutcome => ({
      relay: 'relay:25',
      recipients: [
        { recipient: m.recipients[0]!, status: 'sent', reply: '250 ok', code: 250 },
        { recipient: m.recipients[1]!, status: 'bounced', reply: '550 5.1.1 unknown', code: 550 },
      ],
    });

    it('commits an attempt together with new mail, and apart when the new mail is refused', async () => {
      const [m] = await claimAll(1, 'w1');
      const waiting = message(2000);
      await services.queue.enqueue(waiting);
      const recorded = recorder.record(m!, 'w1', sent(m!), 120); // lingers for new mail ...
      const refused = services.queue.enqueue({ ...waiting, subject: 'the same id again' }); // ... and meets a message the database refuses
      await expect(refused).rejects.toThrow();
      expect(await recorded).toBe(true);
      expect(await count(ds, 'message', 'id = $1', [m!.id])).toBe(0);
      expect(await count(ds, 'mail_log', `event = 'sent' AND queue_id = $1`, [m!.id])).toBe(2);
      expect(await count(ds, 'mail_log', `event = 'received' AND queue_id = $1`, [waiting.id])).toBe(1);
    });

    it('records each attempt as if alone, and only those whose lease is still ours', async () => {
      const claimed = await claimAll(20, 'w1');
      expect(claimed).toHaveLength(20);
      // Four leases ran out and went to another worker meanwhile.
      const lost = claimed.slice(16).map((m) => m.id);
      await ds.query(`UPDATE message SET lease_owner = 'w2' WHERE id = ANY($1::text[])`, [lost]);
      const outcomes = claimed.map((m, i) => (i < 8 ? sent(m) : i < 12 ? deferred(m) : mixed(m)));
      const results = await Promise.all(claimed.map((m, i) => recorder.record(m, 'w1', outcomes[i]!, 120)));
      expect(results).toEqual(claimed.map((_, i) => i < 16));

      const left: { id: string; state: string; recipients: string[]; attempts: number; last_error: string | null; lease_owner: string | null; later: boolean }[] = await ds.query(
        `SELECT id, state, recipients, attempts, last_error, lease_owner, next_attempt_at > now() + interval '4 minutes' AS later FROM message ORDER BY id`,
      );
      const byId = new Map(left.map((r) => [r.id, r]));
      claimed.forEach((m, i) => {
        const row = byId.get(m.id);
        if (i < 8 || (i >= 12 && i < 16)) expect(row).toBeUndefined(); // done: sent, or sent + bounced
        else if (i < 12) expect(row).toMatchObject({ state: 'deferred', recipients: m.recipients, attempts: 1, last_error: '451 4.7.1 later', lease_owner: null, later: true });
        else expect(row).toMatchObject({ state: 'sending', lease_owner: 'w2', attempts: 0 }); // someone else's now
      });
      expect(await count(ds, 'message_body', 'id = ANY($1::text[])', [claimed.slice(0, 8).map((m) => m.id)])).toBe(0);

      const lines: { queue_id: string; event: string; n: number }[] = await ds.query(
        `SELECT queue_id, event, count(*)::int AS n FROM mail_log WHERE event <> 'received' GROUP BY queue_id, event`,
      );
      const line = (id: string, event: string) => lines.find((l) => l.queue_id === id && l.event === event)?.n ?? 0;
      claimed.forEach((m, i) => {
        if (i < 8) expect(line(m.id, 'sent')).toBe(2);
        else if (i < 12) expect(line(m.id, 'deferred')).toBe(2);
        else if (i < 16) expect([line(m.id, 'sent'), line(m.id, 'bounced')]).toEqual([1, 1]);
        else expect(lines.filter((l) => l.queue_id === m.id)).toEqual([]);
      });
      const bounces: { message: string; details: { queueId: string } }[] = await ds.query(`SELECT message, details FROM event WHERE source = 'delivery' ORDER BY id`);
      expect(bounces.map((b) => b.details.queueId).sort()).toEqual(claimed.slice(12, 16).map((m) => m.id).sort());
      expect(bounces[0]!.message).toMatch(/^Bounced: message \S+ to b\d+@example\.net$/);
    });
  });
});
