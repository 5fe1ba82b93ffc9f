import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWallClock, localDay, parseLocalDateTime, toDateTimeLocal } from '../../src/web/local-time.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { type EventEntry, type MailLogEntry, events as apiEvents, mailLog } from './api.js';

/** The API's entries carry their time too. */
type Timed<T> = T & { at: string };
const events = async (p: PostroomProcess, query: string) => (await apiEvents(p, query)) as Timed<EventEntry>[];

/** The server runs in +05:30 (no DST): a filter read in the wrong zone misses by hours. */
const TZ = 'Asia/Kolkata';
const OFFSET_MS = 5.5 * 3600_000;
const MESSAGES = 60; // each gives a 'received' and a 'deferred' row: 120 mail-log rows
const XSS = '<script>alert(1)</script>';

/** Attribute values come HTML-escaped (Handlebars escapes & and =). */
function unescapeHtml(s: string): string {
  return s
    .replace(/&#x3D;/g, '=')
    .replace(/&#x27;/g, "'")
    .replace(/&#x60;/g, '`')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function link(html: string, rel: 'next' | 'prev'): string | null {
  const m = new RegExp(`<a class="button" rel="${rel}" href="([^"]+)"`).exec(html);
  return m ? unescapeHtml(m[1]!) : null;
}

/** The row ids of a log table (mail log rows are id="m…", events id="e…"), top to bottom. */
function rowIds(html: string, prefix: 'm' | 'e'): string[] {
  return [...html.matchAll(new RegExp(`<tr id="${prefix}(\\d+)"`, 'g'))].map((m) => m[1]!);
}

function mailRows(html: string): { id: string; event: string; queueId: string }[] {
  return [...html.matchAll(/<tr id="m(\d+)">([\s\S]*?)<\/tr>/g)].map((m) => ({
    id: m[1]!,
    event: /class="badge (\w+)"/.exec(m[2]!)![1]!,
    queueId: /href="\/messages\/([0-9A-Z]{17})"/.exec(m[2]!)?.[1] ?? '',
  }));
}

/** "2026-11-22T03:15" in the server's zone for an instant. */
function kolkataMinute(at: Date): string {
  return new Date(at.getTime() + OFFSET_MS).toISOString().slice(0, 16);
}

describe('Mail log, logs, message story and report pages', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;
  let relayPort: number;
  let xssId: string;
  let needleId: string;
  let allRows: Timed<MailLogEntry>[]; // newest first, from the API

  beforeAll(async () => {
    db = await createTestDatabase();
    relayPort = await freePort(); // nothing listens: every attempt is deferred with ECONNREFUSED
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, TZ } }).start();
    const settings = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort, security: 'none', authEnabled: false, fromAddress: 'nas@example.com' });
    expect(settings.status).toBe(200);

    const submit = async (i: number) => {
      const special = i === 7 ? { to: 'needle@example.org', subject: 'Needle' } : i === 11 ? { to: `user${i}@example.com`, subject: XSS } : { to: `user${i}@example.com`, subject: `Report ${i}` };
      const r = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { ...special, text: 'hello' });
      expect(r.status).toBe(202);
      if (i === 7) needleId = r.body.id;
      if (i === 11) xssId = r.body.id;
    };
    for (let i = 0; i < MESSAGES; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => submit(i + k)));
    await postroom.until(async () => (await mailLog(postroom, 'event=deferred')).length === MESSAGES, 'every message deferred', 30_000);
    allRows = (await mailLog(postroom, '')) as Timed<MailLogEntry>[];
    expect(allRows).toHaveLength(2 * MESSAGES);
    web = await new WebSession(postroom).login();
  }, 90_000);

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('sends /mail-log and /logs whole to a browser and the results fragment alone to htmx, with Vary: HX-Request', async () => {
    for (const path of ['/mail-log', '/logs']) {
      const full = await web.get(path);
      const fragment = await web.get(path, true);
      expect(full.status).toBe(200);
      expect(fragment.status).toBe(200);
      expect(full.text).toContain('<html');
      expect(full.text).toContain('role="search"');
      expect(full.text).toContain('id="log-results"');
      expect(full.text).toMatch(/<a href="[^"]+" aria-current="page">(Mail Log|Logs)<\/a>/);
      expect(fragment.text).not.toContain('<html');
      expect(fragment.text).not.toContain('<form');
      expect(fragment.text).toContain('<table class="log');
      expect(full.headers.get('vary')).toMatch(/HX-Request/i);
      expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);
      // Every filter has a label.
      for (const id of [...full.text.matchAll(/<(?:input|select) id="([^"]+)"/g)].map((m) => m[1]!)) expect(full.text).toContain(`<label for="${id}">`);
    }
    const log = await web.get('/mail-log');
    expect(mailRows(log.text)).toHaveLength(50);
    expect(mailRows(log.text).map((r) => r.id)).toEqual(allRows.slice(0, 50).map((r) => r.id));
    expect(log.text).toContain(`127.0.0.1:${relayPort}`); // relay column
    expect(log.text).toMatch(/ECONNREFUSED/); // reply column
  });

  it('pages through the mail log with Next to the end and back with Prev to the same rows, without duplicates', async () => {
    const pages: string[][] = [];
    let url: string | null = '/mail-log?limit=13';
    let html = '';
    while (url) {
      const res = await web.get(url, pages.length % 2 === 1); // alternate whole pages and fragments
      expect(res.status).toBe(200);
      html = res.text;
      pages.push(rowIds(html, 'm'));
      if (pages.length === 1) expect(link(html, 'prev')).toBeNull();
      else expect(link(html, 'prev')).not.toBeNull();
      url = link(html, 'next');
      if (url) expect(url).toMatch(/^\/mail-log\?limit=13&cursor=/);
      expect(pages.length).toBeLessThan(20);
    }
    const seen = pages.flat();
    expect(pages).toHaveLength(Math.ceil((2 * MESSAGES) / 13));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(allRows.map((r) => r.id));

    // Back from the last page: each Prev shows exactly the page Next showed before it.
    for (let i = pages.length - 2; i >= 0; i--) {
      const prev = link(html, 'prev');
      expect(prev, `page ${i + 2} has a Prev link`).toMatch(/^\/mail-log\?limit=13&before=/);
      const res = await web.get(prev!, i % 2 === 0);
      expect(res.status).toBe(200);
      html = res.text;
      expect(rowIds(html, 'm')).toEqual(pages[i]);
    }
    expect(link(html, 'prev')).toBeNull(); // back at the newest: nothing newer
    expect(link(html, 'next')).toMatch(/cursor=/);
  });

  it('keeps the filters on the paging links and filters by status, address and time', async () => {
    const deferred = await web.get('/mail-log?event=deferred&limit=25');
    const rows = mailRows(deferred.text);
    expect(rows).toHaveLength(25);
    expect(rows.every((r) => r.event === 'deferred')).toBe(true);
    expect(deferred.text).toMatch(/<option value="deferred" selected>/);
    const next = link(deferred.text, 'next')!;
    expect(next).toMatch(/^\/mail-log\?event=deferred&limit=25&cursor=/);
    expect(mailRows((await web.get(next, true)).text).every((r) => r.event === 'deferred')).toBe(true);
    // An htmx filter request pushes the tidy URL, without the blank fields the form sent.
    const viaForm = await web.get('/mail-log?event=deferred&address=&since=&until=&limit=25', true);
    expect(viaForm.headers.get('hx-push-url')).toBe('/mail-log?event=deferred&limit=25');
    expect(mailRows(viaForm.text).map((r) => r.id)).toEqual(rows.map((r) => r.id));
    // `status` is the same filter under the name the API also takes.
    expect(mailRows((await web.get('/mail-log?status=received&limit=100', true)).text)).toHaveLength(MESSAGES);

    const needle = await web.get('/mail-log?address=NEEDLE%40example');
    expect(mailRows(needle.text).map((r) => [r.event, r.queueId])).toEqual([
      ['deferred', needleId],
      ['received', needleId],
    ]);
    expect(needle.text).toContain('value="NEEDLE@example"');
    expect((await web.get('/mail-log?address=%25_', true)).text).toContain('No entries match these filters.');

    // Time: the datetime-local values are the server's wall clock (+05:30), not UTC.
    const newest = new Date(allRows[0]!.at);
    const oldest = new Date(allRows[allRows.length - 1]!.at);
    const since = kolkataMinute(oldest);
    const until = kolkataMinute(new Date(newest.getTime() + 60_000));
    const inRange = await web.get(`/mail-log?since=${since}&until=${until}&limit=500`);
    expect(inRange.status).toBe(200);
    expect(mailRows(inRange.text)).toHaveLength(2 * MESSAGES);
    expect(inRange.text).toContain(`value="${since}"`);
    expect(inRange.text).toMatch(/Asia\/(Kolkata|Calcutta)/); // ICU may name the zone by its old alias
    const later = await web.get(`/mail-log?since=${until}`, true);
    expect(later.text).toContain('No entries match these filters.');
    const earlier = await web.get(`/mail-log?until=${since}`, true);
    expect(earlier.text).toContain('No entries match these filters.');
    // The same minute read as UTC would be 5.5 hours off: the API (UTC) agrees with the page.
    const apiSince = new Date(Date.parse(since + ':00Z') - OFFSET_MS).toISOString();
    expect(await mailLog(postroom, `since=${apiSince}`)).toHaveLength(2 * MESSAGES);

    // A time to the second, as step="1" inputs send it.
    const exact = new Date(allRows[0]!.at);
    const exactLocal = new Date(Math.floor((exact.getTime() + OFFSET_MS) / 1000) * 1000).toISOString().slice(0, 19);
    const fromExact = mailRows((await web.get(`/mail-log?since=${exactLocal}&limit=500`, true)).text);
    expect(fromExact.length).toBe(allRows.filter((r) => Date.parse(r.at) >= Date.parse(exactLocal + 'Z') - OFFSET_MS).length);
    expect(fromExact.length).toBeGreaterThan(0);
  });

  it('answers a bad filter with 400 and says what to fix, as a page and as a fragment', async () => {
    const page = await web.get('/mail-log?since=yesterday&event=lost');
    expect(page.status).toBe(400);
    expect(page.text).toContain('aria-invalid="true"');
    expect(page.text).toContain('Since must be a date and time');
    expect(page.text).toContain('Status must be one of');
    const fragment = await web.get('/mail-log?since=2026-02-30T10:00', true);
    expect(fragment.status).toBe(400);
    expect(fragment.text).toContain('role="alert"');
    expect(fragment.text).toContain('Since must be a date and time');
    const backwards = await web.get('/logs?since=2026-05-02T10:00&until=2026-05-01T10:00', true);
    expect(backwards.status).toBe(400);
    expect(backwards.text).toContain('must be later than');
    expect((await web.get('/mail-log?cursor=%3Cx%3E', true)).status).toBe(400);
    expect((await web.get('/logs?limit=0', true)).status).toBe(400);
  });

  it('shows the event log with level, source and time filters, paging both ways, and details as escaped JSON', async () => {
    const all = await events(postroom, '');
    const errors = await web.get('/logs?level=error&source=delivery&limit=500');
    expect(errors.status).toBe(200);
    const expected = all.filter((e) => e.level === 'error' && e.source === 'delivery').map((e) => e.id);
    expect(expected.length).toBeGreaterThan(0); // the relay's failure (repeats are not logged again)
    expect(rowIds(errors.text, 'e')).toEqual(expected);
    expect(errors.text).toContain('<details><summary>');
    expect(errors.text).toContain('&quot;queueId&quot;: &quot;'); // pretty-printed, escaped
    expect(errors.text).toMatch(/<option value="delivery" selected>/);

    const pages: string[][] = [];
    let url: string | null = '/logs?limit=2';
    let html = '';
    while (url) {
      html = (await web.get(url, true)).text;
      pages.push(rowIds(html, 'e'));
      url = link(html, 'next');
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(new Set(pages.flat()).size).toBe(pages.flat().length);
    expect(pages.flat()).toEqual((await events(postroom, '')).filter((e) => Number(e.id) <= Number(pages[0]![0])).map((e) => e.id));
    for (let i = pages.length - 2; i >= 0; i--) {
      html = (await web.get(link(html, 'prev')!, true)).text;
      expect(rowIds(html, 'e')).toEqual(pages[i]);
    }

    const newest = new Date(all[0]!.at);
    const since = kolkataMinute(new Date(newest.getTime() + 60_000));
    expect((await web.get(`/logs?since=${since}`, true)).text).toContain('No events match these filters.');
    expect(rowIds((await web.get(`/logs?until=${since}&limit=500`, true)).text, 'e').length).toBeGreaterThanOrEqual(all.length);
  });

  it("tells a message's story: queue state, then received → deferred attempt, oldest first", async () => {
    const res = await web.get(`/messages/${needleId}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<h1>Message ${needleId}</h1>`);
    const story = res.text.slice(res.text.indexOf('id="h-story"'));
    const received = story.indexOf('class="step received"');
    const deferred = story.indexOf('class="step deferred"');
    expect(received).toBeGreaterThan(-1);
    expect(deferred).toBeGreaterThan(received);
    expect(story).toContain('through the HTTP API');
    expect(story).toMatch(/Attempt 1: deferred for <strong>needle@example.org<\/strong> via 127\.0\.0\.1:\d+/);
    expect(story).toMatch(/Reply: [^<]*ECONNREFUSED/);
    // Still queued: state, who is pending, attempts, next attempt and the last error.
    const queue = res.text.slice(res.text.indexOf('id="h-queue"'), res.text.indexOf('id="h-recipients"'));
    expect(queue).toContain('<span class="badge deferred">deferred</span>');
    expect(queue).toContain('needle@example.org');
    expect(queue).toMatch(/Attempts so far<\/dt><dd>1</);
    expect(queue).toMatch(/Next attempt<\/dt><dd>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}</);
    expect(queue).toContain('ECONNREFUSED');

    const fragment = await web.get(`/messages/${needleId}`, true);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('<div id="story"');
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);

    // The mail log links each queue id here.
    expect((await web.get(`/mail-log?address=needle`)).text).toContain(`<a href="/messages/${needleId}">`);
  });

  it('answers 404 for an unknown queue id and 400 for a malformed one, escaping the id', async () => {
    const unknown = await web.get('/messages/00000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('<code>00000000000000000</code>');
    expect(unknown.text).toContain('<h1>Message 00000000000000000</h1>');
    const bad = await web.get('/messages/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(bad.text).not.toContain('<img');
  });

  it('escapes a subject like <script> on the mail log and on the story page', async () => {
    const needle = '&lt;script&gt;alert(1)&lt;/script&gt;';
    const log = await web.get('/mail-log?limit=500');
    expect(log.text).toContain(needle);
    expect(log.text).not.toContain(XSS);
    const story = await web.get(`/messages/${xssId}`);
    expect(story.status).toBe(200);
    expect(story.text).toContain(needle);
    expect(story.text).not.toContain(XSS);
  });


  it('reads datetime-local values in a time zone across DST changes', () => {
    const ny = 'America/New_York';
    expect(parseLocalDateTime('2026-11-22T03:15', TZ)!.toISOString()).toBe('2026-11-21T21:45:00.000Z');
    expect(parseLocalDateTime('2026-07-01T12:00', ny)!.toISOString()).toBe('2026-07-01T16:00:00.000Z');
    expect(parseLocalDateTime('2026-01-15T12:00:30', ny)!.toISOString()).toBe('2026-01-15T17:00:30.000Z');
    // Skipped (02:30 does not exist on 8 March): moves forward to 03:30 EDT.
    expect(parseLocalDateTime('2026-03-08T02:30', ny)!.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // Repeated (01:30 happens twice on 1 November): the first one, EDT.
    expect(parseLocalDateTime('2026-11-01T01:30', ny)!.toISOString()).toBe('2026-11-01T05:30:00.000Z');
    expect(parseLocalDateTime('2026-11-01T00:00Z', ny)!.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseLocalDateTime('', ny)).toBeUndefined();
    for (const bad of ['2026-02-30T10:00', '2026-13-01T00:00', '2026-01-01T24:00', 'yesterday', '2026-01-01']) expect(parseLocalDateTime(bad, ny)).toBeNull();
    expect(toDateTimeLocal(new Date('2026-11-21T21:45:00Z'), TZ)).toBe('2026-11-22T03:15');
    expect(toDateTimeLocal(new Date('2026-11-21T21:45:07Z'), TZ)).toBe('2026-11-22T03:15:07');
    // A 23-hour day and a 25-hour day.
    const spring = localDay(ny, 0, new Date('2026-03-08T15:00:00Z'));
    expect([spring.since, spring.until, spring.start.toISOString(), spring.end.toISOString()]).toEqual(['2026-03-08T00:00', '2026-03-09T00:00', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    const fall = localDay(ny, 1, new Date('2026-11-02T12:00:00Z'));
    expect(fall.end.getTime() - fall.start.getTime()).toBe(25 * 3600_000);
    expect(localDay(TZ, 1, new Date('2026-01-01T20:00:00Z')).since).toBe('2026-01-01T00:00'); // already 2 January in Kolkata
    expect(fromWallClock({ year: 2026, month: 6, day: 1, hour: 0, minute: 0, second: 0 }, 'UTC').toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });
});
