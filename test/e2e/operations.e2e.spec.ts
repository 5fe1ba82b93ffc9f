import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, ROOT } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

/** Prometheus text → { 'name{labels}': value } (labels as written by prom-client). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** Every route the controllers under src/ serve below /api/v1, read from their source. */
async function apiRoutesInSource(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.controller.ts')) files.push(p);
    }
  };
  await walk(path.join(ROOT, 'src'));
  const routes: string[] = [];
  for (const file of files) {
    const src = await readFile(file, 'utf8');
    const prefix = /@Controller\('(api\/v1[^']*)'\)/.exec(src)?.[1];
    if (!prefix) continue;
    for (const m of src.matchAll(/@(Get|Post|Put|Delete|Patch)\((?:'([^']*)')?\)/g)) {
      const sub = m[2] ? `/${m[2]}` : '';
      routes.push(`${m[1]!.toUpperCase()} /${prefix}${sub}`.replace(/:(\w+)/g, '{$1}'));
    }
  }
  return routes.sort();
}

describe('Operations: /metrics, /api/docs, request logs', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  // ops@ is delivered, gone@ refused for good (bounce), later@ refused for now (deferral).
  const sink = new SmtpSink({
    starttls: false,
    rcptReply: (a) => (a.startsWith('gone@') ? { code: 550, message: '5.1.1 No such user' } : a.startsWith('later@') ? { code: 451, message: '4.3.0 Try later' } : undefined),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { SMTP_MAX_MESSAGE_BYTES: '4096' } }).start();
    const res = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas@example.com' });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('counts what happened: received, delivered, bounced, deferred, rejected, latency, queue depth', async () => {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    await client.sendMail({ from: 'cron@nas.local', to: 'ops@example.com', subject: 'one', text: 'x' });
    await client.sendMail({ from: 'cron@nas.local', to: ['ops@example.com', 'gone@example.com'], subject: 'two', text: 'x' });
    await client.sendMail({ from: 'cron@nas.local', to: 'later@example.com', subject: 'three', text: 'x' });
    expect((await postroom.api('POST', '/api/v1/messages', { to: ['ops@example.com'], subject: 'four', text: 'x' })).status).toBe(202);
    // Over SMTP_MAX_MESSAGE_BYTES: refused with 552 and counted as rejected (size).
    await expect(client.sendMail({ from: 'cron@nas.local', to: 'ops@example.com', subject: 'big', text: 'y'.repeat(8000) })).rejects.toThrow(/552/);

    await sink.waitFor(3);
    // What happened, as the mail log tells it (a bounce may add a non-delivery notice: it counts too).
    const log = async () => {
      const all: { event: string; delayMs: number | null }[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: { event: string; delayMs: number | null }[]; nextCursor: string | null } } = await postroom.api('GET', `/api/v1/mail-log?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      const n = (e: string) => all.filter((i) => i.event === e).length;
      return { received: n('received'), sent: n('sent'), deferred: n('deferred'), bounced: n('bounced'), rejected: n('rejected') };
    };
    let last = '';
    let happened = await log();
    const metrics = await postroom
      .until(async () => {
        happened = await log();
        last = await (await fetch(`${postroom.baseUrl}/metrics`)).text();
        const m = parseMetrics(last);
        // Settled in this scrape too: a notice Postroom wrote may still have been on its way when it was taken.
        const settled = happened.deferred === 1 && happened.bounced === 1 && happened.rejected === 1 && happened.sent >= 3 && m.get('postroom_queue_depth{state="sending"}') === 0 && m.get('postroom_queue_depth{state="queued"}') === 0;
        // Relay health is written to the database within 5 s of an outcome (at once only when a relay starts failing or recovers).
        const healthWritten = m.get(`postroom_relay_up{relay="127.0.0.1:${sink.port}"}`) !== undefined;
        return settled && healthWritten && m.get('postroom_recipients_delivered_total') === happened.sent && m.get('postroom_messages_received_total') === happened.received ? m : undefined;
      }, 'the outcomes in /metrics')
      .catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(happened)}\n${last.split('\n').filter((l) => l.startsWith('postroom_') && !l.startsWith('postroom_process_')).join('\n')}`);
      });

    // 4 accepted (3 SMTP + 1 API), plus any notice Postroom wrote itself; 1 refused for its size.
    expect(happened.received).toBeGreaterThanOrEqual(4);
    expect(happened.sent).toBeGreaterThanOrEqual(3);
    expect(happened.rejected).toBe(1);
    expect(metrics.get('postroom_messages_received_total')).toBe(happened.received);
    expect(metrics.get('postroom_recipients_delivered_total')).toBe(happened.sent);
    expect(metrics.get('postroom_recipients_bounced_total')).toBe(1);
    expect(metrics.get('postroom_recipients_deferred_total')).toBe(1);
    expect(metrics.get('postroom_messages_rejected_total{reason="size"}')).toBe(1);
    expect(metrics.get('postroom_delivery_latency_seconds_count')).toBe(happened.sent);
    expect(metrics.get('postroom_delivery_latency_seconds_sum')).toBeGreaterThan(0);
    expect(metrics.get('postroom_delivery_latency_seconds_bucket{le="+Inf"}')).toBe(happened.sent);
    // The deferred message waits in the queue; nothing else does.
    expect(metrics.get('postroom_queue_depth{state="deferred"}')).toBe(1);
    expect(metrics.get('postroom_queue_depth{state="queued"}')).toBe(0);
    expect(metrics.get('postroom_queue_depth{state="hold"}')).toBe(0);
    expect(metrics.get('postroom_queue_depth{state="sending"}')).toBe(0);
    expect(metrics.get('postroom_queue_oldest_message_age_seconds')).toBeGreaterThan(0);
    expect(metrics.get('postroom_database_up')).toBe(1);
    // Relay health, from the last outcome through the relay (the sink answered).
    expect(metrics.get(`postroom_relay_up{relay="127.0.0.1:${sink.port}"}`)).toBe(1);
    // Process metrics (collectDefaultMetrics).
    expect(metrics.get('postroom_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('serves /metrics as Prometheus text without auth', async () => {
    const res = await fetch(`${postroom.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE postroom_delivery_latency_seconds histogram');
    expect(text).toContain('# TYPE postroom_messages_received_total counter');
    expect(text).toContain('# TYPE postroom_queue_depth gauge');
  });

  it('lists every /api/v1 route in /api/docs.json, each with the bearer requirement', async () => {
    const res = await fetch(`${postroom.baseUrl}/api/docs.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: Record<string, string[]>[]; tags?: string[]; summary?: string }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    const expected = await apiRoutesInSource();
    expect(expected.length).toBeGreaterThanOrEqual(15);
    for (const route of expected) expect(documented).toContain(route);
    // Only the JSON API and the health checks (without a token): no dashboard page, no metrics.
    expect(documented.filter((r) => !r.split(' ')[1]!.startsWith('/api/v1/'))).toEqual(['GET /healthz', 'GET /readyz']);
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (p.startsWith('/api/v1/')) expect(op.security, `${m} ${p}`).toContainEqual({ bearer: [] });
        else expect(op.security, `${m} ${p}`).toEqual([]);
        expect(op.tags?.length, `${m} ${p}`).toBeGreaterThan(0);
      }
    }
    expect(doc.paths['/api/v1/messages']?.post?.summary).toMatch(/queue id/);
  });

  it('serves /api/docs from our own origin, without inline script (CSP script-src self)', async () => {
    const res = await fetch(`${postroom.baseUrl}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) {
      expect(s[2]!.trim()).toBe(''); // no inline code
      expect(s[1]).toMatch(/src="\/api\/docs\/assets\//);
    }
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css', 'init.js']) {
      expect((await fetch(`${postroom.baseUrl}/api/docs/assets/${asset}`)).status, asset).toBe(200);
    }
    expect((await fetch(`${postroom.baseUrl}/api/docs/assets/..%2Fpackage.json`)).status).toBe(404);
    // Without JavaScript the page still lists the calls.
    expect(html).toContain('<code>POST /api/v1/messages</code>');
  });

  it('logs HTTP requests as JSON lines without the Authorization header or bodies, and carries the queue id', async () => {
    const secret = 'do-not-log-this-' + Date.now();
    const r = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { to: ['ops@example.com'], subject: secret, text: secret });
    expect(r.status).toBe(202);
    // Log lines arrive on a pipe of their own, maybe after the HTTP answer: wait for this request's lines.
    const parse = () => postroom.output.split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await postroom.until(async () => parse().some((l) => l.queueId === r.body.id && l.msg === 'message queued') && parse().filter((l) => l.module === 'http' && (l.req as { path?: string })?.path === '/api/v1/messages').length >= 2, 'the request lines');
    const lines = parse();
    const http = lines.filter((l) => l.module === 'http');
    expect(http.some((l) => (l.req as { path?: string })?.path === '/api/v1/messages' && (l.res as { statusCode?: number })?.statusCode === 202)).toBe(true);
    expect(postroom.output).not.toContain(postroom.token);
    expect(postroom.output).not.toContain(secret);
    expect(postroom.output.toLowerCase()).not.toContain('authorization');
    // From intake to outcome, the lines about this message carry its queue id.
    const about = lines.filter((l) => l.queueId === r.body.id).map((l) => l.msg);
    expect(about).toContain('message queued');
    await postroom.until(async () => postroom.output.includes(`"queueId":"${r.body.id}"`) && /delivery sent/.test(postroom.output.split('\n').filter((l) => l.includes(r.body.id)).join('\n')), 'the delivery line');
  });
});
