import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { RawSmtp } from '../e2e/raw-smtp.js';
import { events } from '../e2e/api.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { chaosMessage, newMtaResult, report, runMta, sinkCounts, sleep, sql, until, useRelay } from './support.js';

const LEASE_SECONDS = 10;
const CLIENTS = 5;
const PER_CLIENT = 60;
const OUTAGE_MS = 3000;

/** One SMTP transaction on a fresh raw connection: the code of the final reply to DATA. */
async function probe(port: number, id: string): Promise<number> {
  const smtp = await RawSmtp.connect(port);
  try {
    expect((await smtp.read()).code).toBe(220);
    expect((await smtp.command('EHLO probe.nas.local')).code).toBe(250);
    expect((await smtp.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    expect((await smtp.command('RCPT TO:<ops@example.com>')).code).toBe(250);
    expect((await smtp.command('DATA')).code).toBe(354);
    return (await smtp.data(chaosMessage(id), 15_000)).code;
  } finally {
    smtp.close();
  }
}

/**
 * PostgreSQL itself restarts under load: Postroom runs on a server of this test's own (a fixed
 * port, so it comes back at the same address), never on the shared test server.
 */
describe('database outage under load', () => {
  let dir: string;
  let pgServer: EmbeddedPostgres;
  let url: string;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postroom-chaos-pg-'));
    pgServer = new EmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), logger: pino({ level: 'warn' }) });
    url = await pgServer.start();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: url, env: { DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) } }).start();
    // The storm guard stays on: retries of messages refused with 451 must not count as repeats.
    await useRelay(postroom, { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false }, { keepStormGuard: true });
  });

  afterAll(async () => {
    await postroom?.dispose();
    await pgServer?.stop();
    await sink.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 451 and never 250 while PostgreSQL is down, recovers by itself, and delivers every acknowledged message', async () => {
    const result = newMtaResult();
    let downFrom = Infinity;
    let downUntil = Infinity;
    const repliesWhileDown: number[] = [];
    const mtas = Array.from({ length: CLIENTS }, (_, c) =>
      runMta({
        port: () => postroom.smtpPort,
        messages: Array.from({ length: PER_CLIENT }, (_, n) => ({ id: `db-${c}-${n}`, body: chaosMessage(`db-${c}-${n}`) })),
        deadline: Date.now() + 120_000,
        result,
        pauseMs: 40,
        // A message whose end of DATA left after the server was down cannot have been stored.
        onReply: (_id, reply, sentAt) => {
          if (sentAt > downFrom && sentAt < downUntil) repliesWhileDown.push(reply.code);
        },
      }),
    );

    await until(() => result.acked.size >= 60, 'the first acknowledgements', 30_000, 20);
    const ackedBefore = result.acked.size;
    await pgServer.stop();
    downFrom = Date.now();

    // The listener still talks, but refuses to take mail it cannot store.
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) probes.push(await probe(postroom.smtpPort, `db-probe-down-${i}`));
    expect(probes).toEqual([451, 451, 451]);
    const ready = await fetch(`${postroom.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    const left = OUTAGE_MS - (Date.now() - downFrom);
    if (left > 0) await sleep(left);

    downUntil = Date.now();
    await pgServer.start(); // same data directory, same port
    const upAt = Date.now();
    // No restart of Postroom: the next submission is taken again by itself.
    let recoveryProbes = 0;
    await until(async () => (await probe(postroom.smtpPort, `db-probe-up-${recoveryProbes++}`)) === 250, 'a 250 after PostgreSQL came back', 30_000, 250);
    const recoveredAfterMs = Date.now() - upAt;
    expect((await fetch(`${postroom.baseUrl}/readyz`)).status).toBe(200);

    await Promise.all(mtas);
    expect(result.gaveUp).toEqual([]);
    expect(result.acked.size).toBe(CLIENTS * PER_CLIENT);
    expect(repliesWhileDown.length).toBeGreaterThan(0);
    expect(repliesWhileDown.filter((c) => c === 250)).toEqual([]);
    expect(result.refusedCodes.get(451) ?? 0).toBeGreaterThan(0);

    // The acknowledged mail (and the one probe that got 250) all reach the relay.
    expect((await postroom.api('POST', '/api/v1/queue/flush')).status).toBe(200);
    const expected = [...result.acked.keys(), `db-probe-up-${recoveryProbes - 1}`];
    try {
      await until(() => {
        const got = sinkCounts(sink.messages);
        return expected.every((id) => got.has(id));
      }, 'every acknowledged message at the sink', (LEASE_SECONDS + 40) * 1000);
    } catch (err) {
      // Say where the missing ones are: in the queue (which state), in the mail log, or nowhere.
      const got = sinkCounts(sink.messages);
      const missing = expected.filter((id) => !got.has(id));
      const queued = await sql(url, `SELECT subject, state, attempts, last_error, lease_owner, lease_until, next_attempt_at FROM message WHERE subject = ANY($1)`, [missing]);
      const logged = await sql(url, `SELECT subject, event, queue_id, reply, at FROM mail_log WHERE subject = ANY($1) ORDER BY id`, [missing]);
      throw new Error(`${String(err)}\nmissing ${missing.length}: ${missing.slice(0, 20).join(', ')}\nqueue: ${JSON.stringify(queued.slice(0, 20))}\nmail log: ${JSON.stringify(logged.slice(0, 40))}\nacks: ${JSON.stringify(missing.slice(0, 20).map((id) => result.acked.get(id)))}`);
    }
    await until(async () => (await sql(url, `SELECT id FROM message`)).length === 0, 'the queue to be empty', (LEASE_SECONDS + 20) * 1000);

    const got = sinkCounts(sink.messages);
    // Refused probes were never stored, so never sent.
    for (let i = 0; i < 3; i++) expect(got.has(`db-probe-down-${i}`)).toBe(false);
    // A copy more than once: the relay took it while the outcome could not be committed (database
    // down); the lease ran out and it went again. Each such case is logged by the worker.
    const duplicates = [...got].filter(([, n]) => n > 1);
    const extraCopies = duplicates.reduce((s, [, n]) => s + n - 1, 0);
    const unrecorded = (postroom.output.match(/could not record the delivery outcome/g) ?? []).length;
    const storedTwice = (await sql<{ n: number }>(url, `SELECT count(*)::int - count(DISTINCT subject)::int AS n FROM mail_log WHERE event = 'received'`))[0]!.n;
    expect(extraCopies).toBeLessThanOrEqual(unrecorded + storedTwice);
    expect(sink.messages.length).toBe(got.size + extraCopies);

    // The event log says the database was lost and recovered (written once it is back), and the
    // LISTEN connection's loss is in the process log.
    expect(postroom.output).toMatch(/LISTEN connection (lost|failed)/);
    const dbEvents = await until(async () => {
      const found = (await events(postroom, '')).filter((e) => /database/i.test(e.message) && /lost|unreachable|down|unavailable|recovered|back|restored/i.test(e.message));
      return found.some((e) => /lost|unreachable|down|unavailable/i.test(e.message)) && found.some((e) => /recovered|back|restored/i.test(e.message)) ? found : undefined;
    }, "the event log's database lost / recovered entries", 15_000);

    report('database-outage', {
      sent: CLIENTS * PER_CLIENT + 3 + recoveryProbes,
      acknowledged: result.acked.size + 1,
      ackedBeforeOutage: ackedBefore,
      repliesWhileDown: repliesWhileDown.length,
      code451WhileDown: repliesWhileDown.filter((c) => c === 451).length,
      code250WhileDown: repliesWhileDown.filter((c) => c === 250).length,
      outageMs: downUntil - downFrom,
      recoveredAfterMs,
      delivered: got.size,
      lost: expected.filter((id) => !got.has(id)).length,
      duplicated: duplicates.length,
      extraCopies,
      outcomesNotRecorded: unrecorded,
      storedTwice,
      databaseEvents: [...new Set(dbEvents.map((e) => e.message))],
    });
  }, 180_000);
});
