import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Postroom } from './postroom.js';
import { SmtpSink } from './sink.js';
import { median } from './util.js';

export interface OpTiming {
  name: string;
  /** What was asked (method and path, or a description). */
  request: string;
  ms: number[];
  /** A number the answer gave (rows, count) to show it did the work. */
  detail: string;
}

export interface OpsResult {
  deferred: number;
  mailLogRows: number;
  todayRows: number;
  fillSeconds: number;
  timings: OpTiming[];
}

/**
 * Fills the queue with `deferred` deferred messages (1 KiB bodies) and the mail log with
 * `logRows` rows (30 % today, 70 % over the six days before) straight in SQL (generate_series),
 * in Postroom's own schema. Queue ids are 17 characters of the queue-id alphabet ("0" + 16 digits).
 */
export async function fillQueue(db: pg.Client, n: number, offset = 0): Promise<void> {
  await db.query(
    `INSERT INTO message (id, state, sender, recipients, subject, message_id, size, client_address, created_at, next_attempt_at, attempts, last_error)
     SELECT '0' || lpad(i::text, 16, '0'), 'deferred', 'app' || (i % 50) || '@appliance.example', ARRAY['user' || (i % 1000) || '@d' || (i % 20) || '.example'],
            'Deferred ' || i, '<q' || i || '@bench.example>', 1024, '127.0.0.1',
            now() - ($1::int + $2::int - i) * interval '1 second', now() + interval '1 hour' + (i % 3600) * interval '1 second', 1 + i % 5,
            '451 4.3.0 Temporary failure, try again later'
       FROM generate_series($2::int, $2::int + $1::int - 1) i`,
    [n, offset],
  );
  await db.query(
    `INSERT INTO message_body (id, data)
     SELECT '0' || lpad(i::text, 16, '0'), convert_to(repeat('x', 1024), 'UTF8') FROM generate_series($2::int, $2::int + $1::int - 1) i`,
    [n, offset],
  );
}

export async function fillMailLog(db: pg.Client, rows: number): Promise<number> {
  const today = Math.round(rows * 0.3);
  const before = rows - today;
  const select = (n: number, from: string, to: string) => `
    SELECT t, 'L' || lpad(i::text, 16, '0') AS qid, '<l' || i || '@bench.example>' AS mid,
           CASE WHEN i % 20 < 8 THEN 'received' WHEN i % 20 < 17 THEN 'sent' WHEN i % 20 < 19 THEN 'deferred' WHEN i % 40 = 19 THEN 'bounced' ELSE 'rejected' END AS event,
           'app' || (i % 50) || '@appliance.example' AS sender, 'user' || (i % 1000) || '@d' || (i % 20) || '.example' AS rcpt, i
      FROM (SELECT i, ${from} + (i::float8 / ${n}) * (${to} - ${from}) AS t FROM generate_series(0, ${n} - 1) i) s`;
  const insert = (sub: string) => `
    INSERT INTO mail_log (at, queue_id, message_id, event, sender, recipient, relay, size, delay_ms, attempt, reply, client_address, subject)
    SELECT t, CASE WHEN event = 'rejected' THEN NULL ELSE qid END, mid, event, sender, rcpt,
           CASE WHEN event IN ('sent', 'deferred', 'bounced') THEN 'relay.example[192.0.2.1]:587' END,
           1000 + (i * 37) % 50000, CASE WHEN event IN ('sent', 'deferred', 'bounced') THEN 500 + i % 5000 END,
           CASE WHEN event IN ('sent', 'deferred', 'bounced') THEN 1 + i % 3 END,
           CASE event WHEN 'sent' THEN '250 2.0.0 Ok: queued' WHEN 'deferred' THEN '451 4.7.1 Greylisted, try again later'
                      WHEN 'bounced' THEN '550 5.1.1 Recipient address rejected' WHEN 'rejected' THEN '552 message size exceeds the limit' END,
           CASE WHEN event IN ('received', 'rejected') THEN '127.0.0.1' END, 'Bench ' || i
      FROM (${sub}) x ORDER BY t`;
  const midnight = `date_trunc('day', now())`;
  await db.query(insert(select(before, `(${midnight} - interval '6 days')`, midnight)));
  await db.query(insert(select(today, midnight, `(now() - interval '1 second')`)));
  return today;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

const cursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

/**
 * Operations at scale on a running Postroom (the delivery worker parked on a relay that never
 * answers, so it neither drains the queue nor writes while we time): the queue and mail-log API
 * pages (first and deep, via a cursor), today's report, flush of every deferred message, delete
 * of the whole queue. Pages and the report: `reads` timings each; flush and delete: `runs` each,
 * the queue refilled by SQL in between.
 */
export async function operationsAtScale(pr: Postroom, opts: { deferred: number; logRows: number; reads: number; runs: number; log: (s: string) => void }): Promise<OpsResult> {
  const db = new pg.Client({ connectionString: await pr.databaseUrl() });
  await db.connect();
  try {
    const t0 = performance.now();
    await fillQueue(db, opts.deferred);
    const todayRows = await fillMailLog(db, opts.logRows);
    await db.query('VACUUM ANALYZE message');
    await db.query('VACUUM ANALYZE message_body');
    await db.query('VACUUM ANALYZE mail_log');
    const fillSeconds = (performance.now() - t0) / 1000;
    const [{ n: logRows }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM mail_log')).rows as [{ n: number }];
    const [{ n: deferred }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message WHERE state = 'deferred'`)).rows as [{ n: number }];
    opts.log(`  filled ${deferred} deferred messages and ${logRows} mail-log rows (${todayRows} today) in ${fillSeconds.toFixed(1)} s`);

    // Deep keys: near the oldest end of each list (newest first, so the deepest pages are there).
    // (ORDER BY mail_log.id: a bare "id" would name the text output column and sort as text.)
    const [{ id: deepLogId }] = (await db.query<{ id: string }>(`SELECT id::text AS id FROM mail_log ORDER BY mail_log.id OFFSET 1000 LIMIT 1`)).rows as [{ id: string }];
    const [{ id: deepQueueId }] = (await db.query<{ id: string }>(`SELECT id FROM message ORDER BY id OFFSET 1000 LIMIT 1`)).rows as [{ id: string }];
    const [{ id: midLogId }] = (await db.query<{ id: string }>(`SELECT id::text AS id FROM mail_log ORDER BY mail_log.id OFFSET $1 LIMIT 1`, [Math.floor(logRows / 2)])).rows as [{ id: string }];

    const reads: { name: string; path: string; count: (b: any) => string }[] = [
      { name: 'queue page (first, 50)', path: '/api/v1/queue?limit=50', count: (b) => `${b.items?.length} items` },
      { name: 'queue page (deep: 1,000 from the oldest, via cursor)', path: `/api/v1/queue?limit=50&cursor=${cursor(deepQueueId)}`, count: (b) => `${b.items?.length} items` },
      { name: 'queue page, state=deferred (deep)', path: `/api/v1/queue?state=deferred&limit=50&cursor=${cursor(deepQueueId)}`, count: (b) => `${b.items?.length} items` },
      { name: 'mail-log page (first, 50)', path: '/api/v1/mail-log?limit=50', count: (b) => `${b.items?.length} items` },
      { name: 'mail-log page (middle, via cursor)', path: `/api/v1/mail-log?limit=50&cursor=${cursor(midLogId)}`, count: (b) => `${b.items?.length} items` },
      { name: 'mail-log page (deep: 1,000 from the oldest, via cursor)', path: `/api/v1/mail-log?limit=50&cursor=${cursor(deepLogId)}`, count: (b) => `${b.items?.length} items` },
      { name: 'mail-log page, event=sent (deep)', path: `/api/v1/mail-log?event=sent&limit=50&cursor=${cursor(deepLogId)}`, count: (b) => `${b.items?.length} items` },
      { name: 'report of today', path: '/api/v1/reports/today', count: (b) => `received ${b.totals?.received}, delivered ${b.totals?.delivered}` },
    ];
    const timings: OpTiming[] = [];
    for (const r of reads) {
      const ms: number[] = [];
      let detail = '';
      for (let i = 0; i < opts.reads; i++) {
        const [t, res] = await time(() => pr.api('GET', r.path));
        if (res.status !== 200) throw new Error(`GET ${r.path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        ms.push(t);
        detail = r.count(res.body);
      }
      timings.push({ name: r.name, request: `GET ${r.path.replace(/cursor=[^&]+/, 'cursor=…')}`, ms, detail });
      opts.log(`  ${r.name}: median ${median(ms).toFixed(1)} ms (${detail})`);
    }

    const flush: number[] = [];
    let flushed = 0;
    for (let i = 0; i < opts.runs; i++) {
      if (i > 0) {
        await db.query(`UPDATE message SET state = 'deferred', next_attempt_at = now() + interval '1 hour' WHERE state = 'queued'`);
        await db.query('VACUUM ANALYZE message');
      }
      const [t, res] = await time(() => pr.api<{ count: number }>('POST', '/api/v1/queue/flush'));
      if (res.status !== 200) throw new Error(`flush: ${res.status}`);
      flush.push(t);
      flushed = res.body.count;
    }
    // After the first flush the parked worker holds a few messages 'sending' (its line): a flush marks them, but counts only the deferred.
    const [{ n: sending }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message WHERE state = 'sending'`)).rows as [{ n: number }];
    timings.push({ name: `flush (${flushed.toLocaleString('en')} deferred → due)`, request: 'POST /api/v1/queue/flush', ms: flush, detail: `${flushed} flushed (and ${sending} being sent: the parked worker's line)` });
    opts.log(`  flush: median ${median(flush).toFixed(0)} ms (${flushed} messages)`);

    const del: number[] = [];
    let deleted = 0;
    for (let i = 0; i < opts.runs; i++) {
      if (i > 0) {
        await fillQueue(db, opts.deferred, 10_000_000 * i);
        await db.query('VACUUM ANALYZE message');
        await db.query('VACUUM ANALYZE message_body');
      }
      const [t, res] = await time(() => pr.api<{ count: number }>('DELETE', '/api/v1/queue'));
      if (res.status !== 200) throw new Error(`delete: ${res.status}`);
      del.push(t);
      deleted = res.body.count;
    }
    timings.push({ name: `delete (${deleted.toLocaleString('en')} messages and their bodies)`, request: 'DELETE /api/v1/queue', ms: del, detail: `${deleted} deleted` });
    opts.log(`  delete: median ${median(del).toFixed(0)} ms (${deleted} messages)`);
    return { deferred, mailLogRows: logRows, todayRows, fillSeconds, timings };
  } finally {
    await db.end();
  }
}

/**
 * The queue's drain after an outage: `n` deferred messages (1 KiB) are put back, the relay comes
 * back (`smtp-sink`), and a flush makes them due: the time from the flush until the sink has
 * counted them all. Claims, relay conversations and outcome commits are all of it; no intake.
 * Call it once the relay that parked the worker is gone (its line then fails and is retried).
 */
export async function drainAfterOutage(pr: Postroom, sink: SmtpSink, opts: { n: number; log: (s: string) => void }): Promise<OpTiming> {
  const db = new pg.Client({ connectionString: await pr.databaseUrl() });
  await db.connect();
  try {
    await fillQueue(db, opts.n, 90_000_000);
    await db.query('ANALYZE message');
  } finally {
    await db.end();
  }
  await pr.setRelay(sink.port, { poolSize: 10, timeoutSeconds: 30 });
  const before = sink.count;
  const t0 = performance.now();
  const res = await pr.api<{ count: number }>('POST', '/api/v1/queue/flush');
  if (res.status !== 200) throw new Error(`flush: ${res.status}`);
  const t1 = await sink.waitFor(before + res.body.count, 60_000 + res.body.count * 5);
  const ms = t1 - t0;
  const rate = (res.body.count * 1000) / ms;
  opts.log(`  drain: ${res.body.count} messages in ${(ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s)`);
  return {
    name: `drain (${res.body.count.toLocaleString('en')} flushed after an outage → delivered, pool of 10)`,
    request: 'POST /api/v1/queue/flush, then smtp-sink -c counts them',
    ms: [ms],
    detail: `${Math.round(rate).toLocaleString('en')} messages/s`,
  };
}
