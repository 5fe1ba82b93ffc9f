import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { report, sleep, sql, until, useRelay } from './support.js';

const INSTANCES = 3;
const TOTAL = 3000;
const CONCURRENCY = 24;

/** The queue id that Postroom's own Received header names (added at intake). */
const queueIdOf = (data: Buffer) => /\(Postroom\)\s+with\s+\S+\s+id\s+([0-9A-Z]{17})/.exec(data.toString('latin1'))?.[1];

/** The queue ids an instance logged as sent ("delivery sent", one JSON line per recipient). */
function sentByInstance(output: string): string[] {
  const ids: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"delivery sent"')) continue;
    const entry = JSON.parse(line) as { msg?: string; queueId?: string };
    if (entry.msg === 'delivery sent' && entry.queueId) ids.push(entry.queueId);
  }
  return ids;
}

/**
 * Three Postroom processes on one database share a queue of thousands. Who delivered what comes
 * from each process's own log ("delivery sent" lines, with the queue id): the mail log does not
 * name the instance, each process's log is its own. The sink confirms: each queue id once.
 */
describe('several instances on one database', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const instances: PostroomProcess[] = [];
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    await sink.stop(); // the relay is down (on a known port) while the queue fills
    for (let i = 0; i < INSTANCES; i++) {
      const p = new PostroomProcess({ databaseUrl: db.url, env: { INSTANCE_NAME: `node-${i}`, LOG_LEVEL: 'info' } });
      instances.push(p);
      await p.start();
      if (i === 0) {
        await useRelay(p, { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false, timeoutSeconds: 10 });
      }
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of instances) await p.dispose();
    await sink.stop();
    await db?.drop();
  });

  it(`delivers ${TOTAL} messages with ${INSTANCES} instances: each exactly once, the work shared`, async () => {
    // Enqueue through the API of every instance in turn.
    const acked: string[] = [];
    let next = 0;
    const startedAt = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < TOTAL; i = next++) {
          const p = instances[i % INSTANCES]!;
          const r = await p.api<{ id: string }>('POST', '/api/v1/messages', { from: 'cron@nas.example.com', to: `user${i % 50}@example.com`, subject: `instances ${i}`, text: `message ${i}` });
          expect(r.status).toBe(202);
          acked.push(r.body.id);
        }
      }),
    );
    const enqueueMs = Date.now() - startedAt;
    expect(new Set(acked).size).toBe(TOTAL);

    // Every instance tries, the relay refuses: all deferred.
    await until(async () => (await sql<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM message WHERE state = 'deferred'`))[0]!.n === TOTAL, 'every message to be deferred', 90_000, 500);

    await sink.start();
    const flushAt = Date.now();
    const flushed = await instances[0]!.api<{ count: number }>('POST', '/api/v1/queue/flush');
    expect(flushed).toEqual({ status: 200, body: { count: TOTAL } });
    await sink.waitFor(TOTAL, 120_000);
    const deliverMs = Date.now() - flushAt;
    await until(async () => (await sql(db.url, `SELECT id FROM message`)).length === 0, 'the queue to be empty', 30_000);
    await sleep(1000); // a second copy would show up now

    // The relay saw each queue id exactly once.
    const sunk = sink.messages.map((m) => queueIdOf(m.data));
    expect(sunk.filter((id) => !id)).toEqual([]);
    const counts = new Map<string, number>();
    for (const id of sunk) counts.set(id!, (counts.get(id!) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    expect(sink.messages.length).toBe(TOTAL);
    expect([...counts.keys()].sort()).toEqual([...acked].sort());

    // The mail log: one 'sent' row per message.
    const sentRows = await sql<{ n: number; d: number }>(db.url, `SELECT count(*)::int AS n, count(DISTINCT queue_id)::int AS d FROM mail_log WHERE event = 'sent'`);
    expect(sentRows[0]).toEqual({ n: TOTAL, d: TOTAL });

    // Each instance's own log: disjoint sets that together make the whole queue, every instance a fair share.
    const perInstance = instances.map((p) => sentByInstance(p.output));
    const union = new Set(perInstance.flat());
    expect(perInstance.reduce((s, ids) => s + ids.length, 0)).toBe(TOTAL);
    expect(union.size).toBe(TOTAL);
    for (const ids of perInstance) expect(ids.length).toBeGreaterThan(TOTAL / INSTANCES / 4);

    report('instances', {
      instances: INSTANCES,
      sent: TOTAL,
      acknowledged: acked.length,
      delivered: counts.size,
      lost: TOTAL - counts.size,
      duplicated: twice.length,
      perInstance: perInstance.map((ids) => ids.length),
      enqueueMs,
      deliverMs,
    });
  }, 300_000);
});
