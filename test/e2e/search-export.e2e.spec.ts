import { beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { freePort } from '../helpers/postroom-process.js';
import { WebSession } from '../helpers/web-session.js';

interface Entry {
  id: string;
  queueId?: string;
  subject: string;
  messageId: string;
}

/** Finding things: `q` over subject, addresses, queue id and Message-ID (API and pages), and the filtered mail log as CSV. */
describe('search and CSV export', () => {
  const app = dashboardPostroom();
  let web: WebSession;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const closed = await freePort(); // nothing listens: the messages stay in the queue, deferred
    expect((await app.postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: closed, security: 'none', authEnabled: false })).status).toBe(200);
    for (const [key, body] of Object.entries({
      pool: { from: 'zed@nas.example', to: 'ops@example.com', subject: 'Pool tank DEGRADED', text: 'x' },
      disk: { from: 'smartd@nas.example', to: 'storage@example.org', subject: 'SMART error on sdc', text: 'x' },
      formula: { from: 'cron@nas.example', to: 'ops@example.com', subject: '=HYPERLINK("http://evil.example")', text: 'x' },
    })) {
      ids[key] = (await app.postroom.api<{ id: string }>('POST', '/api/v1/messages', body)).body.id;
    }
    await app.postroom.until(async () => ((await app.postroom.api<{ deferred: number }>('GET', '/api/v1/queue/counts')).body.deferred === 3 ? true : undefined), 'three deferred');
    web = await new WebSession(app.postroom).login();
  }, 90_000);

  const queueIds = async (q: string) => (await app.postroom.api<{ items: Entry[] }>('GET', `/api/v1/queue?q=${encodeURIComponent(q)}`)).body.items.map((e) => e.id).sort();
  const logIds = async (q: string) => [...new Set((await app.postroom.api<{ items: Entry[] }>('GET', `/api/v1/mail-log?q=${encodeURIComponent(q)}`)).body.items.map((e) => e.queueId))].sort();

  it('finds by subject, address, queue id and Message-ID in the queue and the mail log (API)', async () => {
    expect(await queueIds('tank degraded')).toEqual([ids.pool]);
    expect(await queueIds('storage@')).toEqual([ids.disk]);
    expect(await queueIds(ids.disk!)).toEqual([ids.disk]);
    const disk = (await app.postroom.api<Entry>('GET', `/api/v1/queue/${ids.disk}`)).body;
    expect(await queueIds(disk.messageId.replace(/[<>]/g, ''))).toEqual([ids.disk]);
    expect(await logIds('SMART')).toEqual([ids.disk]);
    expect(await logIds('nas.example')).toEqual([ids.disk, ids.formula, ids.pool].sort());
    expect(await logIds('nothing like this')).toEqual([]);
    expect((await app.postroom.api('GET', '/api/v1/mail-log?q=%00')).status).toBe(400);
  });

  it('searches on the Mail Log and the Mail Queue pages, with the dates labelled Since and Until', async () => {
    const log = await web.get('/mail-log?q=tank');
    expect(log.text).toContain(ids.pool);
    expect(log.text).not.toContain(ids.disk);
    expect(log.text).toContain('<label for="f-since">Since</label>');
    expect(log.text).toContain('<label for="f-until">Until</label>');
    const queue = await web.get('/queue?q=SMART');
    expect(queue.text).toContain(ids.disk);
    expect(queue.text).not.toContain(ids.pool);
  });

  it('downloads the filtered mail log as CSV, a spreadsheet formula defused', async () => {
    const page = await web.get('/mail-log?q=nas.example');
    expect(page.text).toContain('href="/mail-log/export.csv?q&#x3D;nas.example"');
    const res = await fetch(`${app.postroom.baseUrl}/mail-log/export.csv?q=nas.example`, { headers: { cookie: web.cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="mail-log.csv"');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,event,queue_id,message_id,from,to,original_to,subject,relay,size,delay_ms,attempt,reply,detail,client_address');
    const received = lines.filter((l) => l.split(',')[1] === 'received');
    expect(received).toHaveLength(3);
    expect(lines.find((l) => l.includes(ids.formula!) && l.includes(',received,'))).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    const only = await (await fetch(`${app.postroom.baseUrl}/mail-log/export.csv?q=${ids.pool}&event=received`, { headers: { cookie: web.cookie } })).text();
    expect(only.trimEnd().split('\r\n')).toHaveLength(2);
    expect((await fetch(`${app.postroom.baseUrl}/mail-log/export.csv`, { redirect: 'manual' })).status).toBe(303); // the login first
  });
});
