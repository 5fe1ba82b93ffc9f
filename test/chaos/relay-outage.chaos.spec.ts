import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { events } from '../e2e/api.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { chaosMessage, newMtaResult, report, runMta, sinkCounts, sleep, sql, until, useRelay } from './support.js';

const CLIENTS = 10;
const PER_CLIENT = 40;
const TOTAL = CLIENTS * PER_CLIENT;
const OUTAGE_MS = 4000;

/** The relay goes away in the middle of a load and comes back: defer, never bounce, then deliver all. */
describe('relay outage under load', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { LOG_LEVEL: 'warn' } }).start();
    // A 1-hour lifetime: the outage is far shorter, so nothing may bounce.
    await useRelay(postroom, { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false, lifetimeHours: 1, timeoutSeconds: 5 });
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('defers every message with its reason while the relay is down, bounces none, and delivers all of them exactly once after a flush', async () => {
    const result = newMtaResult();
    const mtas = Array.from({ length: CLIENTS }, (_, c) =>
      runMta({
        port: () => postroom.smtpPort,
        messages: Array.from({ length: PER_CLIENT }, (_, n) => ({ id: `relay-${c}-${n}`, body: chaosMessage(`relay-${c}-${n}`) })),
        deadline: Date.now() + 90_000,
        result,
        pauseMs: 25,
      }),
    );

    // The relay dies once some mail has gone through, while the clients still submit.
    await until(() => sink.messages.length >= TOTAL / 5, 'the first deliveries', 30_000, 20);
    await sink.stop();
    const sunkBeforeOutage = sink.messages.length;
    const ackedAtOutage = result.acked.size;
    const outageStart = Date.now();
    await Promise.all(mtas);
    expect(result.gaveUp).toEqual([]);
    expect(result.acked.size).toBe(TOTAL);

    // Everything not delivered waits, deferred, with the reason; nothing is in flight any more.
    await until(async () => {
      const rows = await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM message WHERE state <> 'deferred'`);
      return rows[0]!.n === 0;
    }, 'every queued message to be tried and deferred', 30_000);
    const waiting = await sql<{ id: string; last_error: string | null; attempts: number; next_attempt_at: Date }>(db.url, `SELECT id, last_error, attempts, next_attempt_at FROM message`);
    expect(waiting.length).toBe(TOTAL - sunkBeforeOutage);
    expect(waiting.length).toBeGreaterThan(TOTAL / 2);
    for (const m of waiting) {
      expect(m.last_error).toMatch(/ECONNREFUSED|connect/i);
      expect(m.attempts).toBeGreaterThanOrEqual(1);
      expect(new Date(m.next_attempt_at).getTime()).toBeGreaterThan(Date.now()); // a later retry, not a bounce
    }
    const deferredRows = await sql<{ queue_id: string; reply: string }>(db.url, `SELECT DISTINCT ON (queue_id) queue_id, reply FROM mail_log WHERE event = 'deferred'`);
    const withReason = new Set(deferredRows.filter((r) => /ECONNREFUSED|connect/i.test(r.reply)).map((r) => r.queue_id));
    expect(waiting.filter((m) => !withReason.has(m.id))).toEqual([]);
    expect(await sql(db.url, `SELECT id FROM mail_log WHERE event = 'bounced'`)).toEqual([]);
    const relayEvents = (await events(postroom, 'source=delivery')).filter((e) => /connection failed/.test(e.message));
    expect(relayEvents.length).toBeGreaterThanOrEqual(1);

    // The relay stays away a while longer; then it is back, and a flush sends everything.
    const left = OUTAGE_MS - (Date.now() - outageStart);
    if (left > 0) await sleep(left);
    const outageMs = Date.now() - outageStart;
    await sink.start();
    const flushed = await postroom.api<{ count: number }>('POST', '/api/v1/queue/flush');
    expect(flushed).toEqual({ status: 200, body: { count: waiting.length } });
    await sink.waitFor(TOTAL, 60_000);
    await until(async () => (await sql(db.url, `SELECT id FROM message`)).length === 0, 'the queue to be empty', 30_000);
    await sleep(500); // anything extra would arrive now

    const got = sinkCounts(sink.messages);
    const duplicates = [...got].filter(([, n]) => n > 1);
    expect(sink.messages.length).toBe(TOTAL);
    expect(got.size).toBe(TOTAL);
    expect(duplicates).toEqual([]);
    const sent = await sql<{ n: number }>(db.url, `SELECT count(DISTINCT queue_id)::int AS n FROM mail_log WHERE event = 'sent'`);
    expect(sent[0]!.n).toBe(TOTAL);
    expect(await sql(db.url, `SELECT id FROM mail_log WHERE event = 'bounced'`)).toEqual([]);

    report('relay-outage', {
      sent: TOTAL,
      acknowledged: result.acked.size,
      ackedBeforeOutage: ackedAtOutage,
      deliveredBeforeOutage: sunkBeforeOutage,
      deferred: waiting.length,
      deferredReason: waiting[0]?.last_error,
      bounced: 0,
      outageMs,
      delivered: got.size,
      lost: TOTAL - got.size,
      duplicated: duplicates.length,
    });
  }, 180_000);
});
