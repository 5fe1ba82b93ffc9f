import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { sqlOf } from '../../src/database/sql.js';
import { MailLogService, NewMailLogEntry } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { dateIn } from '../../src/reports/report-date.js';
import type { DailyReport } from '../../src/reports/report.types.js';
import { createTestDatabase, silentLogger } from '../helpers/db.js';
import { CLI, PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { ENTITIES } from '../../src/entities.js';

const TZ = 'Asia/Kolkata';
const DAY = '2026-10-15';
/** How this Node names TZ (ICU may canonicalise it, e.g. to Asia/Calcutta): the server says the same. */
const ZONE_NAME = new Intl.DateTimeFormat('en', { timeZone: TZ }).resolvedOptions().timeZone;
/** 10:00 local on DAY in Kolkata (UTC+05:30). */
const at = (minutes: number) => new Date(Date.parse(`${DAY}T04:30:00Z`) + minutes * 60_000);

function rows(): NewMailLogEntry[] {
  const base = { messageId: null, relay: 'relay.example[192.0.2.1]:587', subject: null };
  return [
    { ...base, at: at(0), queueId: 'E1', event: 'received', sender: 'alice@a.example', recipient: 'bob@b.example, carol@c.example', size: 1200, clientAddress: '10.0.0.1' },
    { ...base, at: at(1), queueId: 'E1', event: 'sent', sender: 'alice@a.example', recipient: 'bob@b.example', size: 1200, delayMs: 60000, attempt: 1, reply: '250 2.0.0 Ok' },
    { ...base, at: at(1), queueId: 'E1', event: 'deferred', sender: 'alice@a.example', recipient: 'carol@c.example', size: 1200, delayMs: 60000, attempt: 1, reply: '451 4.7.1 Greylisted' },
    { ...base, at: at(90), queueId: 'E1', event: 'sent', sender: 'alice@a.example', recipient: 'carol@c.example', size: 1200, delayMs: 5_400_000, attempt: 2, reply: '250 2.0.0 Ok' },
    // a routing rule's copy posted to a notification channel (relay: its name, which is escaped on the page)
    { ...base, at: at(2), queueId: 'E1', event: 'sent', sender: 'alice@a.example', recipient: 'channel:4', relay: '<b>phone</b>', size: 1200, delayMs: 120000, attempt: 1, reply: 'HTTP 200' },
    { ...base, at: at(120), queueId: 'E2', event: 'received', sender: 'eve@e.example', recipient: 'dave@b.example', size: 800, clientAddress: '10.0.0.2' },
    { ...base, at: at(121), queueId: 'E2', event: 'bounced', sender: 'eve@e.example', recipient: 'dave@b.example', size: 800, delayMs: 60000, attempt: 1, reply: '550 5.1.1 No such user <dave@b.example>' },
    { ...base, at: at(130), queueId: null, event: 'rejected', sender: 'spam@s.example', recipient: 'x@b.example', size: 0, reply: 'message size exceeds the limit', clientAddress: '10.0.0.9' },
  ];
}

describe('Reports through the real app [GET /api/v1/reports/:day, /reports/:day, postroom report]', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;
  let configDir = '';

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(postroom.httpPort), DATA_DIR: postroom.dataDir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  const text = async (urlPath: string, headers: Record<string, string> = { authorization: `Bearer ${postroom.token}` }) => {
    const res = await fetch(postroom.baseUrl + urlPath, { headers });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    // TZ from the configuration file, as an appliance sets it (the environment has none): every day below is Kolkata's.
    configDir = mkdtempSync(path.join(os.tmpdir(), 'postroom-reports-'));
    writeFileSync(path.join(configDir, 'postroom.env'), `# the appliance's zone\nTZ=${TZ}\n`);
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { POSTROOM_CONFIG: path.join(configDir, 'postroom.env'), ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    const ds = new DataSource(dataSourceOptions(db.url, 2, ENTITIES));
    await ds.initialize();
    await new MailLogService(sqlOf(ds), new MetricsService(silentLogger)).append(rows());
    await ds.destroy();
    web = await new WebSession(postroom).login();
  });

  afterAll(async () => {
    await postroom?.dispose();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
    await db?.drop();
  });

  it('GET /api/v1/reports/2026-10-15 answers the report as JSON, in the TZ of the server', async () => {
    const { status, body } = await postroom.api<DailyReport>('GET', `/api/v1/reports/${DAY}`);
    expect(status).toBe(200);
    expect(body.date).toBe(DAY);
    expect(body.timezone).toBe(ZONE_NAME);
    expect(body.totals).toEqual({
      received: 2, delivered: 2, posted: 1, deferred: 1, deferrals: 1, bounced: 1, rejected: 1, held: 0, deleted: 0, notices: 0, tests: 0,
      bytesReceived: 2000, bytesDelivered: 2400, senders: 2, sendingHosts: 2, recipients: 2, recipientDomains: 2,
    });
    expect(body.hourly).toHaveLength(24);
    expect(body.hourly[10]).toEqual({ hour: 10, received: 1, delivered: 1, deferred: 1, bounced: 0, rejected: 0 });
    expect(body.hourly[11]).toEqual({ hour: 11, received: 0, delivered: 1, deferred: 0, bounced: 0, rejected: 0 });
    expect(body.hourly[12]).toEqual({ hour: 12, received: 1, delivered: 0, deferred: 0, bounced: 1, rejected: 1 });
    expect(body.problems.bounced).toEqual([{ reason: '550 5.1.1 No such user <dave@b.example>', count: 1 }]);
  });

  it('GET /api/v1/reports/:day?format=text answers plain text; bad days are 400, no token is 401', async () => {
    const r = await text(`/api/v1/reports/${DAY}?format=text`);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain/);
    expect(r.body).toContain(`Postroom report for ${DAY} (${ZONE_NAME})`);
    expect(r.body).toContain('       2   received\n');
    expect(r.body).toContain('       1   deferred  (1 deferrals)\n');
    expect(r.body).toContain('    2400   bytes delivered\n');
    expect((await postroom.api('GET', '/api/v1/reports/2026-02-30')).status).toBe(400);
    expect((await postroom.api('GET', '/api/v1/reports/tomorrow')).status).toBe(400);
    expect((await postroom.api('GET', `/api/v1/reports/${DAY}?format=pdf`)).status).toBe(400);
    expect((await text(`/api/v1/reports/${DAY}`, {})).status).toBe(401);
  });

  it('GET /api/v1/reports/today counts a message submitted now, on the local date', async () => {
    expect((await postroom.api('POST', '/api/v1/messages', { from: 'app@example.com', to: ['ops@example.net'], subject: 'hi', text: 'x' })).status).toBe(202);
    const today = await postroom.api<DailyReport>('GET', '/api/v1/reports/today');
    expect(today.status).toBe(200);
    expect(today.body.date).toBe(dateIn(TZ));
    expect(today.body.totals.received).toBe(1);
    const yesterday = await postroom.api<DailyReport>('GET', '/api/v1/reports/yesterday');
    expect(yesterday.body.totals.received).toBe(0);
  });

  it('the dashboard page /reports/2026-10-15 shows the same totals, a server-drawn chart and links to the mail log', async () => {
    const page = await web.get(`/reports/${DAY}`);
    expect(page.status).toBe(200);
    const total = (label: string) => new RegExp(`data-total="${label}">\\s*(?:<a [^>]*>|<span [^>]*>)<strong>(\\d+)</strong>`).exec(page.text)?.[1];
    expect([total('Received'), total('Delivered'), total('Deferred'), total('Bounced'), total('Rejected'), total('Held')]).toEqual(['2', '2', '1', '1', '1', '0']);
    expect(page.text).toMatch(/data-volume="Bytes delivered"><a [^>]*>2400<\/a>/);
    expect(page.text).toContain('<svg xmlns="http://www.w3.org/2000/svg" class="report-chart"');
    const links = [...page.text.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'));
    expect(links).toContain('/mail-log?event=sent&kind=mail&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    expect(links).toContain('/mail-log?event=received&since=2026-10-15T10%3A00&until=2026-10-15T11%3A00');
    expect(links).toContain('/mail-log?event=received&address=alice%40a.example&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    expect(page.text).toContain('550 5.1.1 No such user &lt;dave@b.example&gt;');
    // The channel's post: apart from delivered mail, its name escaped, linked to its mail-log rows.
    expect(total('Posted to channels')).toBe('1');
    expect(page.text).toContain('<tr><td>&lt;b&gt;phone&lt;/b&gt;</td>');
    expect(links).toContain('/mail-log?event=sent&kind=channel%3A4&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    // The Delivered link lists mail's lines, as many as the number says; the channel's apart.
    const delivered = await web.get('/mail-log?event=sent&kind=mail&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    expect(delivered.text).not.toContain('channel:4');
    expect(delivered.text.match(/<span class="badge sent">/g)).toHaveLength(2);
    const posted = await web.get('/mail-log?event=sent&kind=channel&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    expect(posted.text).toContain('channel:4');
    expect(posted.text.match(/<span class="badge sent">/g)).toHaveLength(1);
    // One channel's link: its lines exactly; the channel is gone (rows stored here), the choice names its id.
    const one = await web.get('/mail-log?event=sent&kind=channel%3A4&since=2026-10-15T00%3A00&until=2026-10-16T00%3A00');
    expect(one.text.match(/<span class="badge sent">/g)).toHaveLength(1);
    expect(one.text).toMatch(/<option value="channel:4" selected>Channel: #4 \(deleted\)<\/option>/);
    expect(page.text).toContain('<form class="filters report-picker" method="get" action="/reports"');

    const picked = await web.get(`/reports?date=${DAY}`);
    expect(picked.status).toBe(303);
    expect(picked.headers.get('location')).toBe(`/reports/${DAY}`);
    expect((await web.get('/reports/2026-02-30')).status).toBe(400);

    const fragment = await web.get(`/reports/${DAY}`, true);
    expect(fragment.text.startsWith('<div id="report"')).toBe(true);
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);
  });

  it("Today's and Yesterday's Report pages are in the menu and show today's and yesterday's numbers", async () => {
    await postroom.until(async () => (await postroom.api<{ items: { from: string }[] }>('GET', '/api/v1/mail-log?event=received&limit=50')).body.items.some((e) => e.from === ''), 'the non-delivery notice');
    const today = await web.get('/reports/today');
    expect(today.status).toBe(200);
    expect(today.text).toContain('<h1>Today&#x27;s Report</h1>');
    expect(today.text).toMatch(/href="\/reports\/today" aria-current="page"/);
    // the message posted above; the non-delivery notice its bounce (no DNS here) sent back to app@example.com is Postroom's own
    expect(today.text).toMatch(/data-total="Received">\s*<a [^>]*><strong>1<\/strong>/);
    expect(today.text).toMatch(/data-total="Notices">\s*<a [^>]*><strong>1<\/strong>/);
    const yesterday = await web.get('/reports/yesterday');
    expect(yesterday.status).toBe(200);
    expect(yesterday.text).toContain('<h1>Yesterday&#x27;s Report</h1>');
    expect(yesterday.text).toMatch(/href="\/reports\/yesterday" aria-current="page"/);
    expect((await fetch(postroom.baseUrl + '/reports/today', { redirect: 'manual' })).status).toBe(303); // the login wall
  });

  it('a refused test email is a test, not traffic: no traffic total of the day changes', async () => {
    const before = (await postroom.api<DailyReport>('GET', '/api/v1/reports/today')).body.totals;
    // A relay that refuses the connection: nothing listens on port 1 of the loopback.
    const test = await postroom.api<{ ok: boolean }>('POST', '/api/v1/settings/test', { to: 'ops@example.com', settings: { relayHost: '127.0.0.1', relayPort: 1, security: 'none' } });
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(false);
    const after = await postroom.until(async () => {
      const t = (await postroom.api<DailyReport>('GET', '/api/v1/reports/today')).body.totals;
      return t.tests > before.tests ? t : undefined;
    }, 'the test email in the report');
    expect(after).toEqual({ ...before, tests: before.tests + 1 });
  });

  it('PUT /api/v1/settings takes reportEnabled and reportTime (HH:MM), and refuses a bad time', async () => {
    const bad = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { reportEnabled: true, reportTime: '25:00' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields)).toEqual(['reportTime']);
    const ok = await postroom.api<{ reportEnabled: boolean; reportTime: string }>('PUT', '/api/v1/settings', { reportEnabled: true, reportTime: '06:30' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ reportEnabled: true, reportTime: '06:30' });
  });

  it('postroom report prints the same text as the API, and --json the same JSON', async () => {
    const api = await text(`/api/v1/reports/${DAY}?format=text`);
    const r = cli('report', DAY);
    expect(r.code).toBe(0);
    expect(r.out).toBe(api.body);
    const json = cli('report', DAY, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual((await postroom.api('GET', `/api/v1/reports/${DAY}`)).body);
    const top = cli('report', DAY, '--top', '1');
    expect(top.code).toBe(0);
    expect(top.out).toBe((await text(`/api/v1/reports/${DAY}?top=1&format=text`)).body);
    expect(top.out).not.toBe(r.out);
    const bad = cli('report', 'someday');
    expect(bad.code).toBe(64);
    expect(bad.err).toMatch(/Invalid report day/);
    const badTop = cli('report', DAY, '--top', '0');
    expect(badTop.code).toBe(64);
    expect(badTop.err).toMatch(/top: must be a whole number from 1 to/);
  });
});
