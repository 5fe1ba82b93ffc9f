import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { chaosMessage, chaosSeed, newMtaResult, prng, report, runMta, sinkCounts, sleep, sql, until, useRelay } from './support.js';

const LEASE_SECONDS = 10;
const CLIENTS = 20;
const PER_CLIENT = 50;
const KILLS = 3;

/**
 * kill -9 of the real process at random moments while 20 MTAs submit and the worker delivers.
 * The clients keep every message that did not get a 250 and send it again after the restart.
 */
describe('crash safety: kill -9 under load', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS), LOG_LEVEL: 'warn' } }).start();
    await useRelay(postroom, { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false });
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('delivers every acknowledged message after 3 kills at random moments; duplicates only for messages in flight at a kill; nothing left sending', async () => {
    const seed = chaosSeed();
    const random = prng(seed);
    const result = newMtaResult();
    const deadline = Date.now() + 150_000;
    const mtas = Array.from({ length: CLIENTS }, (_, c) =>
      runMta({
        port: () => postroom.smtpPort,
        messages: Array.from({ length: PER_CLIENT }, (_, n) => {
          const id = `crash-${c}-${n}`;
          return { id, body: chaosMessage(id) };
        }),
        deadline,
        result,
        pauseMs: 10,
      }),
    );

    // chaos id -> how many kills found it claimed ('sending') by the dead process.
    const claimedAtKill = new Map<string, number>();
    const kills: { afterMs: number; acked: number; sunk: number; sending: number; downMs: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const afterMs = Math.round(200 + random() * 1800);
      await sleep(afterMs);
      await postroom.stop('SIGKILL');
      expect(postroom.child!.signalCode).toBe('SIGKILL');
      // What the dead process held under a lease at the moment it died.
      const sending = await sql<{ subject: string }>(db.url, `SELECT subject FROM message WHERE state = 'sending'`);
      for (const r of sending) claimedAtKill.set(r.subject, (claimedAtKill.get(r.subject) ?? 0) + 1);
      const downMs = Math.round(200 + random() * 800);
      kills.push({ afterMs, acked: result.acked.size, sunk: sink.messages.length, sending: sending.length, downMs });
      await sleep(downMs); // clients meanwhile find the port closed and back off
      await postroom.start();
    }
    await Promise.all(mtas);
    expect(result.gaveUp).toEqual([]);
    expect(result.acked.size).toBe(CLIENTS * PER_CLIENT);

    // Whatever the crashes left deferred becomes due; what they left 'sending' is taken back at start-up (the dead process's presence lock is gone).
    expect((await postroom.api('POST', '/api/v1/queue/flush')).status).toBe(200);
    const acked = [...result.acked.keys()];
    await until(() => {
      const got = sinkCounts(sink.messages);
      return acked.every((id) => (got.get(id) ?? 0) > 0);
    }, 'every acknowledged message at the sink', (LEASE_SECONDS + 40) * 1000);
    await until(async () => {
      const c = (await postroom.api<Record<string, number>>('GET', '/api/v1/queue/counts')).body;
      return Object.values(c).every((n) => n === 0);
    }, 'the queue to be empty', (LEASE_SECONDS + 20) * 1000);
    expect(await sql(db.url, `SELECT id FROM message WHERE state = 'sending'`)).toEqual([]);

    // Duplicates: each extra copy must be explained by a kill — the message was claimed by the
    // dead process (the relay may have taken it before the outcome was committed), or it was
    // stored twice because the 250 was lost with the process and the client sent it again.
    const got = sinkCounts(sink.messages);
    const storedTwice = new Map(
      (await sql<{ subject: string; n: number }>(db.url, `SELECT subject, count(*)::int AS n FROM mail_log WHERE event = 'received' GROUP BY subject HAVING count(*) > 1`)).map((r) => [r.subject, r.n - 1]),
    );
    const duplicates = [...got].filter(([, n]) => n > 1);
    const unexplained = duplicates.filter(([id, n]) => n - 1 > (claimedAtKill.get(id) ?? 0) + (storedTwice.get(id) ?? 0));
    expect(unexplained).toEqual([]);
    const extraCopies = duplicates.reduce((s, [, n]) => s + n - 1, 0);
    const claimedTotal = kills.reduce((s, k) => s + k.sending, 0);
    const storedTwiceTotal = [...storedTwice.values()].reduce((s, n) => s + n, 0);
    expect(extraCopies).toBeLessThanOrEqual(claimedTotal + storedTwiceTotal);
    // Every stored copy went out: nothing acknowledged (or stored) is lost.
    expect(sink.messages.length).toBe(got.size + extraCopies);
    const lost = acked.filter((id) => !got.has(id)).length;
    expect(lost).toBe(0);

    report('crash', {
      seed,
      sent: CLIENTS * PER_CLIENT,
      acknowledged: result.acked.size,
      delivered: got.size,
      lost,
      duplicated: duplicates.length,
      extraCopies,
      claimedAtKills: claimedTotal,
      storedTwice: storedTwiceTotal,
      unknownFateAtClient: result.unknownFate.size,
      clientReconnects: result.connectionErrors,
      kills,
    });
  }, 240_000);
});
