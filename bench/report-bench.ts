/**
 * How long a daily report takes on a big day: 100,000 messages (about 300,000 mail-log rows:
 * receptions, one outcome per recipient, deferrals, bounces, refusals) plus 50,000 messages on
 * each neighbouring day, in a database of its own on the machine's PostgreSQL (DATABASE_URL, or
 * postgres://postgres@127.0.0.1:5432/postgres), created and dropped here.
 *
 *   npm run bench:report            (BENCH_MESSAGES=… to change the size, BENCH_KEEP=1 to keep the database)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.js';
import { runMigrations } from '../src/database/migrate.js';
import { sqlOf } from '../src/database/sql.js';
import { formatReportText } from '../src/reports/report-text.js';
import { ReportsRepository } from '../src/reports/reports.repository.js';
import { ReportsService } from '../src/reports/reports.service.js';
import { ENTITIES } from '../src/entities.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const TZ = 'Europe/Berlin';
const DAY = '2026-11-22';
const RUNS = 5;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** One day of traffic, made by PostgreSQL itself (generate_series): n messages spread over the local day. */
async function fillDay(ds: DataSource, date: string, n: number, prefix: string): Promise<void> {
  const [{ start }] = (await ds.query(`SELECT ($1::date::timestamp AT TIME ZONE $2) AS start`, [date, TZ])) as [{ start: Date }];
  const msg = `
    SELECT i, $1::timestamptz + (i * 86400000.0 / $2) * interval '1 millisecond' AS t, $3 || i AS qid,
           'sender' || (i % 2000) || '@s' || (i % 50) || '.example' AS sender, 1000 + (i * 37) % 50000 AS size
      FROM generate_series(0, $2 - 1) i`;
  const rcpt = `SELECT m.*, k, 'user' || ((i * 7 + k * 13) % 20000) || '@d' || ((i * 7 + k * 13) % 500) || '.example' AS rcpt
      FROM (${msg}) m, generate_series(1, 1 + m.i % 3) k`;
  const params = [start, n, prefix];
  await ds.query(
    `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, size, client_address, subject)
     SELECT t, qid, '<' || qid || '@bench>', 'received', sender,
            (SELECT string_agg('user' || ((i * 7 + k * 13) % 20000) || '@d' || ((i * 7 + k * 13) % 500) || '.example', ', ') FROM generate_series(1, 1 + i % 3) k),
            size, '10.0.' || (i % 20) || '.' || (i % 250), 'Bench ' || i
       FROM (${msg}) m`,
    params,
  );
  // Every twentieth message is deferred twice first; every hundredth bounces; the rest are delivered.
  await ds.query(
    `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, relay, size, delay_ms, attempt, reply)
     SELECT t + d.after, qid, '<' || qid || '@bench>', 'deferred', sender, rcpt, 'relay.example[192.0.2.1]:587', size, extract(epoch FROM d.after)::int * 1000, d.attempt,
            (ARRAY['451 4.7.1 Greylisted, try again later', '421 4.4.2 Connection timed out', '452 4.2.2 Mailbox full', '451 4.3.0 Temporary lookup failure', 'connect ECONNREFUSED 192.0.2.1:587'])[1 + i % 5]
       FROM (${rcpt}) r, (VALUES (interval '1 second', 1), (interval '10 minutes', 2)) d(after, attempt)
      WHERE i % 20 = 0`,
    params,
  );
  await ds.query(
    `INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, relay, size, delay_ms, attempt, reply)
     SELECT t + CASE WHEN i % 100 = 0 THEN interval '30 minutes' WHEN i % 20 = 0 THEN interval '20 minutes' ELSE interval '2 seconds' END,
            qid, '<' || qid || '@bench>', CASE WHEN i % 100 = 0 THEN 'bounced' ELSE 'sent' END, sender, rcpt, 'relay.example[192.0.2.1]:587', size,
            CASE WHEN i % 100 = 0 THEN 1800000 WHEN i % 20 = 0 THEN 1200000 ELSE 2000 + i % 3000 END, CASE WHEN i % 20 = 0 THEN 3 ELSE 1 END,
            CASE WHEN i % 100 = 0 THEN '550 5.1.1 <' || rcpt || '>: Recipient address rejected' ELSE '250 2.0.0 Ok: queued as ' || qid END
       FROM (${rcpt}) r`,
    params,
  );
  await ds.query(
    `INSERT INTO mail_log (at, event, sender, recipient, size, reply, client_address)
     SELECT $1::timestamptz + (i * 86400000.0 / ($2 / 100)) * interval '1 millisecond', 'rejected', 'spam' || i || '@junk.example', 'user' || i || '@d1.example', 0,
            CASE WHEN i % 2 = 0 THEN 'message size exceeds the limit' ELSE '550 5.7.1 Relaying denied' END, '198.51.100.' || (i % 250)
       FROM generate_series(0, $2 / 100 - 1) i`,
    [start, n],
  );
  await ds.query(
    `INSERT INTO event (at, level, source, message, details)
     SELECT $1::timestamptz + (i * 86400000.0 / 500) * interval '1 millisecond',
            (ARRAY['info', 'warning', 'error', 'info'])[1 + i % 4], CASE WHEN i % 4 = 0 THEN 'queue' ELSE 'delivery' END,
            'Bench event ' || i, CASE WHEN i % 4 = 0 THEN jsonb_build_object('action', 'hold', 'count', 1 + i % 3) ELSE '{}'::jsonb END
       FROM generate_series(0, 499) i`,
    [start],
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const name = `postroom_bench_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const ds = new DataSource(dataSourceOptions(withDatabase(ADMIN_URL, name), 20, ENTITIES));
  try {
    await ds.initialize();
    await runMigrations(ds);
    const t0 = performance.now();
    await fillDay(ds, '2026-11-21', MESSAGES / 2, 'P');
    await fillDay(ds, DAY, MESSAGES, 'Q');
    await fillDay(ds, '2026-11-23', MESSAGES / 2, 'N');
    await ds.query('VACUUM ANALYZE mail_log');
    await ds.query('VACUUM ANALYZE event');
    const [{ rows }] = (await ds.query(`SELECT count(*)::int AS rows FROM mail_log`)) as [{ rows: number }];
    console.log(`filled ${rows} mail-log rows (${MESSAGES} messages on ${DAY}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const reports = new ReportsService(new ReportsRepository(sqlOf(ds)));
    const warm = await reports.report(DAY, TZ);
    console.log(`report of ${DAY}: received ${warm.totals.received}, delivered ${warm.totals.delivered}, deferred ${warm.totals.deferred} (${warm.totals.deferrals} deferrals), bounced ${warm.totals.bounced}, rejected ${warm.totals.rejected}, held ${warm.totals.held}`);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      formatReportText(await reports.report(DAY, TZ));
      times.push(performance.now() - t);
    }
    console.log(`report (JSON + text) of a ${MESSAGES}-message day: median ${median(times).toFixed(0)} ms of ${RUNS} runs (${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (process.env.BENCH_KEEP) console.log(`kept database ${name} (BENCH_KEEP): drop it yourself`);
    else await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

await main();
