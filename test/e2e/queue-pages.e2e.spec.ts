import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { QueueEntry, events, queue } from './api.js';

/** `&amp;` and friends back to text, for hrefs and values read out of the HTML. */
function unescapeHtml(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/** The queue ids of the rows shown (their selection checkboxes), in page order. */
function rowIds(html: string): string[] {
  return [...html.matchAll(/name="ids" value="([0-9A-Z]{17})"/g)].map((m) => m[1]!);
}

function link(html: string, rel: 'next' | 'prev'): string | undefined {
  const m = new RegExp(`<a href="([^"]+)" rel="${rel}"`).exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

/**
 * The Mail Queue pages over HTTP against the real app: 60 messages deferred by a relay on a
 * closed port, then listing, filters, paging, row and bulk actions, Flush Queue and Delete Queue.
 * The tests run in order on one queue.
 */
describe('dashboard: Mail Queue, Flush Queue, Delete Queue', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;
  const TOTAL = 60;
  const XSS = '<script>alert(1)</script>';

  const all = () => queue(postroom);
  const states = async () => new Map((await all()).map((e) => [e.id, e.state]));
  const counts = async () => (await postroom.api<Record<QueueEntry['state'], number>>('GET', '/api/v1/queue/counts')).body;
  /** Waits until no message is queued or being sent (the worker has tried everything due). */
  const settled = () =>
    postroom.until(async () => {
      const c = await counts();
      return c.queued + c.sending === 0 ? c : undefined;
    }, 'the queue to settle', 30_000);
  const queueEvents = () => events(postroom, 'source=queue');

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    const closed = await freePort(); // nothing listens: every attempt fails with ECONNREFUSED
    const put = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: closed, security: 'none', authEnabled: false, fromAddress: 'nas@example.com' });
    expect(put.status).toBe(200);
    for (let i = 0; i < TOTAL; i++) {
      // One at a time so the ids (time-ordered) follow i; the last one is the newest.
      const r = await postroom.api<{ id: string }>('POST', '/api/v1/messages', {
        from: 'cron@nas.example.com',
        to: i % 10 === 0 ? `special${i}@example.org` : `user${i}@example.com`,
        subject: i === TOTAL - 1 ? XSS : `Report ${i}`,
        text: `Message ${i}`,
      });
      expect(r.status).toBe(202);
      await new Promise((r) => setTimeout(r, 2));
    }
    await postroom.until(async () => ((await counts()).deferred === TOTAL ? true : undefined), 'all messages to be deferred', 40_000);
    web = await new WebSession(postroom).login();
  }, 120_000);

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('serves the whole page without HX-Request and the table fragment with it, both with Vary: HX-Request', async () => {
    const full = await web.get('/queue');
    expect(full.status).toBe(200);
    expect(full.text).toContain('<html');
    expect(full.text).toContain('<h1>Mail Queue</h1>');
    expect(full.text).toMatch(/<a href="\/queue" aria-current="page">Mail Queue<\/a>/);
    expect(full.text).toContain('id="queue-table"');
    expect(full.text).toContain('<label for="queue-state">State</label>');
    expect(full.text).toContain('<label for="queue-address">');
    expect(full.text).toContain('<caption');
    expect(full.headers.get('vary')).toMatch(/HX-Request/i);
    expect(rowIds(full.text)).toHaveLength(50);
    expect(full.text).toContain(`${TOTAL} messages in the queue`);

    const fragment = await web.get('/queue', true);
    expect(fragment.status).toBe(200);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text.trimStart()).toMatch(/^(\{\{!--[\s\S]*?--\}\}\s*)?<div id="queue-table"/);
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);
    expect(rowIds(fragment.text)).toEqual(rowIds(full.text));

    // The newest first, each row linking to its message page.
    const ids = (await all()).map((e) => e.id);
    expect(rowIds(full.text)).toEqual(ids.slice(0, 50));
    expect(full.text).toContain(`<a href="/messages/${ids[0]}">`);
  });

  it('escapes what senders wrote: a subject <script>alert(1)</script> renders as text', async () => {
    const page = await web.get('/queue');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain(XSS);
  });

  it('filters by address and by state, with plain GET links that keep the filters', async () => {
    const special = await web.get('/queue?address=special');
    const expected = (await queue(postroom, 'address=special')).map((e) => e.id);
    expect(expected).toHaveLength(TOTAL / 10);
    expect(rowIds(special.text)).toEqual(expected);
    expect(special.text).toContain('value="special"');

    const one = await web.get('/queue?address=user7%40example.com', true);
    const rows = rowIds(one.text);
    expect(rows).toHaveLength(1);
    expect(one.text).toContain('user7@example.com');
    // The live refresh polls the same filtered list.
    expect(one.text).toContain('hx-get="/queue?address&#x3D;user7%40example.com"');

    expect(rowIds((await web.get('/queue?state=hold')).text)).toEqual([]);
    expect((await web.get('/queue?state=hold')).text).toContain('No message in the queue matches these filters.');
    expect(rowIds((await web.get('/queue?state=deferred')).text)).toHaveLength(50);
    // A state that does not exist is ignored rather than an error.
    expect((await web.get('/queue?state=bogus')).status).toBe(200);
  });

  it('pages with Next and Prev (keyset), forwards and back, as pages and as fragments', async () => {
    const ids = (await all()).map((e) => e.id);
    const first = await web.get('/queue?limit=25');
    expect(rowIds(first.text)).toEqual(ids.slice(0, 25));
    expect(link(first.text, 'prev')).toBeUndefined();
    const toSecond = link(first.text, 'next')!;
    expect(toSecond).toMatch(/^\/queue\?limit=25&cursor=/);

    const second = await web.get(toSecond);
    expect(rowIds(second.text)).toEqual(ids.slice(25, 50));
    const toThird = link(second.text, 'next')!;
    const third = await web.get(toThird, true);
    expect(third.text).not.toContain('<html');
    expect(rowIds(third.text)).toEqual(ids.slice(50, 60));
    expect(link(third.text, 'next')).toBeUndefined();

    const backToSecond = link(third.text, 'prev')!;
    expect(backToSecond).toMatch(/^\/queue\?limit=25&before=/);
    const second2 = await web.get(backToSecond);
    expect(rowIds(second2.text)).toEqual(ids.slice(25, 50));
    expect(link(second2.text, 'next')).toBe(toThird);

    const backToFirst = await web.get(link(second2.text, 'prev')!, true);
    expect(rowIds(backToFirst.text)).toEqual(ids.slice(0, 25));
    expect(link(backToFirst.text, 'prev')).toBeUndefined();

    // Paging keeps the filters.
    const deferredFirst = await web.get('/queue?state=deferred&limit=40');
    const next = link(deferredFirst.text, 'next')!;
    expect(next).toContain('state=deferred');
    expect(rowIds((await web.get(next)).text)).toEqual(ids.slice(40, 60));
  });

  it('holds and releases exactly one message with its row form: 303 back to the list with the flash, or the fragment for htmx', async () => {
    const before = await states();
    const [id, other] = [...before.keys()].slice(3, 5) as [string, string];

    const held = await web.post(`/queue/${id}/hold`, { back: 'state=deferred&limit=40' });
    expect(held.status).toBe(303);
    expect(held.headers.get('location')).toBe('/queue?state=deferred&limit=40');
    const after = await states();
    expect(after.get(id)).toBe('hold');
    for (const [k, v] of before) if (k !== id) expect(after.get(k)).toBe(v);

    const list = await web.get(held.headers.get('location')!);
    expect(list.text).toContain(`<p class="flash" role="status">Message ${id} put on hold.</p>`);
    expect(rowIds(list.text)).not.toContain(id); // no longer deferred
    // The flash shows once.
    expect((await web.get('/queue?state=deferred&limit=40')).text).not.toContain('put on hold.');

    // Releasing a deferred message is refused with a message, and changes nothing.
    const refused = await web.post(`/queue/${other}/release`, { back: '' }, true);
    expect(refused.status).toBe(200);
    expect(refused.text).toContain(`Message ${other} is deferred: cannot release it now.`);
    expect((await states()).get(other)).toBe('deferred');

    const released = await web.post(`/queue/${id}/release`, { back: 'state=hold' }, true);
    expect(released.status).toBe(200);
    expect(released.text).not.toContain('<html');
    expect(released.text).toContain(`Message ${id} released.`);
    expect(released.text).toContain('hx-get="/queue?state&#x3D;hold"'); // the filtered table came back
    // Released: due now, so the worker tries it again at once and defers it (the relay is still down).
    const retried = await postroom.until(async () => {
      const e = (await all()).find((m) => m.id === id);
      return e?.state === 'deferred' && e.attempts === 2 ? e : undefined;
    }, 'the released message to be tried again');
    expect(retried.lastError).toMatch(/ECONNREFUSED/);
    const now = await states();
    for (const [k, v] of before) if (k !== id) expect(now.get(k)).toBe(v);

    const log = await queueEvents();
    expect(log.find((e) => e.message === `Message ${id} put on hold by admin`)?.details).toMatchObject({ actor: 'admin', id, action: 'hold', count: 1 });
    expect(log.find((e) => e.message === `Message ${id} released from hold by admin`)?.details).toMatchObject({ actor: 'admin', action: 'release' });
  });

  it('flushes and deletes exactly one message with its row form', async () => {
    await settled();
    const before = await all();
    const [target, victim] = [before[7]!, before[8]!];

    const flushed = await web.post(`/queue/${target.id}/flush`, { back: '' });
    expect(flushed.status).toBe(303);
    expect(flushed.headers.get('location')).toBe('/queue');
    expect((await web.get('/queue')).text).toContain(`Message ${target.id} flushed.`);
    const retried = await postroom.until(async () => {
      const e = (await all()).find((m) => m.id === target.id);
      return e?.state === 'deferred' && e.attempts === target.attempts + 1 ? e : undefined;
    }, 'the flushed message to be tried again');
    expect(retried.id).toBe(target.id);

    const deleted = await web.post(`/queue/${victim.id}/delete`, { back: 'address=example' }, true);
    expect(deleted.status).toBe(200);
    expect(deleted.text).toContain(`Message ${victim.id} deleted.`);
    expect(rowIds(deleted.text)).not.toContain(victim.id);
    const after = await all();
    expect(after.map((e) => e.id)).toEqual(before.map((e) => e.id).filter((id) => id !== victim.id));
    for (const e of after) {
      if (e.id === target.id) continue;
      expect(e).toMatchObject({ state: 'deferred', attempts: before.find((b) => b.id === e.id)!.attempts });
    }
    expect((await queueEvents()).some((e) => e.message === `Message ${victim.id} deleted by admin`)).toBe(true);
  });

  it('holds the 3 selected messages at once, in one transaction with one event', async () => {
    await settled();
    const before = await states();
    const selected = [...before.keys()].slice(10, 13);
    const eventsBefore = (await queueEvents()).length;

    const page = await web.get('/queue');
    expect(page.text).toContain('<form id="queue-bulk"');
    expect(page.text).toContain(`form="queue-bulk"`);

    const res = await web.post('/queue/bulk', { action: 'hold', ids: selected, back: '' }, true);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<html');
    expect(res.text).toContain('3 messages put on hold.');

    const after = await states();
    for (const [k, v] of before) expect(after.get(k)).toBe(selected.includes(k) ? 'hold' : v);
    expect(rowIds((await web.get('/queue?state=hold')).text).sort()).toEqual([...selected].sort());

    const log = await queueEvents();
    expect(log.length).toBe(eventsBefore + 1);
    expect(log[0]!.details).toMatchObject({ actor: 'admin', action: 'hold', count: 3 });
    expect((log[0]!.details.ids as string[]).sort()).toEqual([...selected].sort());

    // Without JavaScript: the same form posts and comes back to the list with the flash.
    const plain = await web.post('/queue/bulk', { action: 'release', 'ids[]': selected.slice(0, 1), back: 'state=hold' });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe('/queue?state=hold');
    expect((await web.get('/queue?state=hold')).text).toContain('1 message released.');
    await settled();
    // Back on hold for the flush test below: 3 held messages a flush leaves alone.
    await web.post('/queue/bulk', { action: 'hold', ids: selected.slice(0, 1), back: '' }, true);
    expect((await counts()).hold).toBe(3);

    const nothing = await web.post('/queue/bulk', { action: 'hold', back: '' }, true);
    expect(nothing.text).toContain('Select at least one message first.');
  });

  it('refuses a POST without _csrf (403) and changes nothing', async () => {
    await settled();
    const before = await states();
    const eventsBefore = (await queueEvents()).length;
    const target = [...before.keys()][0]!;
    for (const [path, form] of [
      ['/queue/bulk', { action: 'delete', ids: [...before.keys()].slice(0, 5), back: '' }],
      [`/queue/${target}/delete`, { back: '' }],
      ['/queue/flush', {}],
      ['/queue/delete', {}],
    ] as const) {
      const forged = await web.request('POST', path, { form: form as Record<string, string | string[]> });
      expect(forged.status, path).toBe(403);
      const wrong = await web.request('POST', path, { form: { ...(form as Record<string, string | string[]>), _csrf: 'not-the-token' }, htmx: true });
      expect(wrong.status, path).toBe(403);
    }
    expect(await states()).toEqual(before);
    expect((await queueEvents()).length).toBe(eventsBefore);
  });

  it('Flush Queue: the confirmation counts the deferred messages, the POST flushes them and says how many (no JavaScript)', async () => {
    const c = await settled();
    expect(c.hold).toBe(3);
    const n = c.deferred;
    expect(n).toBe(TOTAL - 1 - 3);

    const confirm = await web.get('/queue/flush');
    expect(confirm.status).toBe(200);
    expect(confirm.headers.get('vary')).toMatch(/HX-Request/i);
    expect(confirm.text).toMatch(/<a href="\/queue\/flush" aria-current="page">Flush Queue<\/a>/);
    expect(confirm.text).toContain(`Flush ${n} deferred messages now?`);
    expect(confirm.text).toContain('<form method="post" action="/queue/flush"');

    const done = await web.post('/queue/flush');
    expect(done.status).toBe(200);
    expect(done.text).toContain('<html');
    expect(done.text).toContain(`${n} messages flushed`);

    const event = (await queueEvents()).find((e) => e.message.startsWith('Queue flushed by admin'));
    expect(event?.details).toEqual({ actor: 'admin', count: n, sending: 0 });
    // Held messages stay on hold.
    expect((await counts()).hold).toBe(3);
  });

  it('Delete Queue: the confirmation counts queued + deferred + held, the POST (htmx) deletes them and says how many in place', async () => {
    const c = await settled();
    const n = c.queued + c.deferred + c.hold;
    expect(n).toBe(TOTAL - 1);

    const confirm = await web.get('/queue/delete');
    expect(confirm.text).toMatch(/<a href="\/queue\/delete" aria-current="page">Delete Queue<\/a>/);
    expect(confirm.text).toContain(`Delete ${n} messages from the queue?`);
    const fragment = await web.get('/queue/delete', true);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('id="queue-delete"');

    const done = await web.post('/queue/delete', {}, true);
    expect(done.status).toBe(200);
    expect(done.text).not.toContain('<html');
    expect(done.text).toContain(`${n} messages deleted`);
    expect(await all()).toEqual([]);

    const event = (await queueEvents()).find((e) => e.message.startsWith('Queue deleted by admin'));
    expect(event?.details).toEqual({ actor: 'admin', count: n });

    const empty = await web.get('/queue');
    expect(empty.text).toContain('The queue is empty.');
    expect((await web.get('/queue/delete')).text).toContain('nothing to delete');
    expect((await web.get('/queue/flush')).text).toContain('nothing to flush');
  });
});

