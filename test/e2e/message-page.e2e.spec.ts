import { beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { freePort } from '../helpers/postroom-process.js';
import { WebSession } from '../helpers/web-session.js';
import { mailLog } from './api.js';

interface Entry {
  id: string;
  state: string;
}

const BODY_TOKEN = 'zpool-tank-DEGRADED-c2t1d0';

/**
 * The message page while the message waits in the queue: headers, a text view of the body
 * (HTML only as text, always escaped), the stored message as .eml, the actions its state allows
 * (also without JavaScript), and a back link to where the operator came from.
 */
describe('dashboard: a message page shows the message and acts on it', () => {
  const app = dashboardPostroom();
  let web: WebSession;
  let plain: string;
  let html: string;

  beforeAll(async () => {
    const closed = await freePort(); // nothing listens: the messages stay deferred
    const put = await app.postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: closed, security: 'none', authEnabled: false, fromAddress: 'nas@example.com' });
    expect(put.status).toBe(200);
    const submit = async (body: Record<string, string>) => (await app.postroom.api<{ id: string }>('POST', '/api/v1/messages', { to: 'ops@example.com', ...body })).body.id;
    plain = await submit({ subject: 'Pool degraded', text: `The pool has a faulted disk: ${BODY_TOKEN}\n<script>alert(1)</script>\n` });
    html = await submit({ subject: 'HTML only', html: `<p>Disk <b>sdb</b> is failing</p><script>alert(2)</script>` });
    for (const id of [plain, html]) {
      await app.postroom.until(async () => ((await app.postroom.api<Entry>('GET', `/api/v1/queue/${id}`)).body.state === 'deferred' ? true : undefined), `${id} deferred`);
    }
    web = await new WebSession(app.postroom).login();
  }, 90_000);

  it('shows the headers and the body as text, escaped, titled with the queue id', async () => {
    const page = await web.get(`/messages/${plain}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1>Message ${plain}</h1>`);
    expect(page.text).toMatch(/<th scope="row">Subject<\/th><td>Pool degraded<\/td>/);
    expect(page.text).toMatch(/<th scope="row">Message-ID<\/th>/);
    expect(page.text).toContain(BODY_TOKEN);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');

    const other = await web.get(`/messages/${html}`);
    expect(other.text).toMatch(/Disk (SDB|sdb) is failing/);
    expect(other.text).not.toContain('<b>sdb</b>');
    expect(other.text).not.toContain('alert(2)');
  });

  it('downloads the message as stored (.eml), and only while it is in the queue', async () => {
    const res = await fetch(`${app.postroom.baseUrl}/messages/${plain}/raw`, { headers: { cookie: web.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${plain}.eml"`);
    const eml = Buffer.from(await res.arrayBuffer()).toString();
    expect(eml).toMatch(/^Subject: Pool degraded\r$/m);
    expect(eml).toContain(BODY_TOKEN);
    expect((await fetch(`${app.postroom.baseUrl}/messages/${plain}/raw`, { redirect: 'manual' })).status).toBe(303); // the login first
  });

  it('goes back to the list the operator came from, with its filters, and never elsewhere', async () => {
    const fromQueue = await web.request('GET', `/messages/${plain}`, { headers: { referer: `${app.postroom.baseUrl}/queue?state=deferred` } });
    expect(/<a class="back"[^>]*>[^<]*<\/a>/.exec(fromQueue.text)?.[0]).toBe('<a class="back" href="/queue?state&#x3D;deferred">Back to the mail queue</a>');
    const elsewhere = await web.request('GET', `/messages/${plain}?back=${encodeURIComponent('https://evil.example/queue')}`, { headers: { referer: 'https://evil.example/queue' } });
    expect(elsewhere.text).toContain('<a class="back" href="/mail-log">Back to the mail log</a>');
  });

  it('holds, releases and, after a confirmation, deletes the message from its page, without JavaScript, and says so', async () => {
    const page = await web.get(`/messages/${plain}?back=${encodeURIComponent('/queue?state=deferred')}`);
    expect(page.text).toContain('>Hold</button>');
    expect(page.text).not.toContain('>Release</button>');

    const held = await web.post(`/queue/${plain}/hold`, { story: '/queue?state=deferred' });
    expect(held.status).toBe(303);
    expect(held.headers.get('location')).toBe(`/messages/${plain}?back=${encodeURIComponent('/queue?state=deferred')}`);
    const after = await web.get(held.headers.get('location')!);
    expect(after.text).toContain(`Message ${plain} put on hold.`);
    expect(after.text).toContain('>Release</button>');
    expect(after.text).toContain('<a class="back" href="/queue?state&#x3D;deferred">');
    expect((await app.postroom.api<Entry>('GET', `/api/v1/queue/${plain}`)).body.state).toBe('hold');

    expect((await web.post(`/queue/${plain}/release`, { story: '' })).headers.get('location')).toBe(`/messages/${plain}`);
    expect((await app.postroom.api<Entry>('GET', `/api/v1/queue/${plain}`)).body.state).not.toBe('hold');
    // Released is due now: the worker tries it at once. Delete after that attempt, not during it (409 while sending).
    await app.postroom.until(async () => ((await app.postroom.api<Entry>('GET', `/api/v1/queue/${plain}`)).body.state === 'deferred' ? true : undefined), `${plain} deferred again`);

    const confirm = await web.get(`/messages/${plain}?confirm=delete`);
    expect(confirm.text).toContain(`Delete message ${plain}?`);
    expect((await app.postroom.api('GET', `/api/v1/queue/${plain}`)).status).toBe(200); // asking deletes nothing
    const deleted = await web.post(`/queue/${plain}/delete`, { story: '' });
    expect(deleted.status).toBe(303);
    const gone = await web.get(deleted.headers.get('location')!);
    expect(gone.text).toContain(`Message ${plain} deleted.`);
    expect(gone.text).toContain('Not in the queue any more');
    expect(gone.text).not.toContain('Download the message');
    expect((await app.postroom.api('GET', `/api/v1/queue/${plain}`)).status).toBe(404);
    expect((await fetch(`${app.postroom.baseUrl}/messages/${plain}/raw`, { headers: { cookie: web.cookie } })).status).toBe(404);
    // The story ends with the deletion and who did it; the hold and release before it, each with its actor.
    const log = await mailLog(app.postroom, `queueId=${plain}`);
    expect(log[0]).toMatchObject({ event: 'deleted', detail: 'admin' });
    expect(log.map((e) => e.event).filter((e) => e === 'held' || e === 'released' || e === 'deleted')).toEqual(['deleted', 'released', 'held']);
    expect(log.at(-1)!.event).toBe('received');
    const steps = [...gone.text.matchAll(/<li class="step (\w+)">/g)].map((m) => m[1]);
    expect(steps.at(-1)).toBe('deleted');
    expect(gone.text).toContain('Deleted from the queue by admin.');
  });
});
