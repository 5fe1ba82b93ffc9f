import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events } from './api.js';

interface Preset {
  id: string;
  name: string;
  host: string;
  port: number;
  security: string;
  note: string;
  username?: string;
}

describe('provider presets: API and the Edit Settings page', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    web = await new WebSession(postroom).login();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('GET /api/v1/settings/presets lists every preset with host, port, security and a note (bearer token required)', async () => {
    const r = await postroom.api<{ items: Preset[] }>('GET', '/api/v1/settings/presets');
    expect(r.status).toBe(200);
    const ids = r.body.items.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['sendgrid', 'mailgun-us', 'mailgun-eu', 'ses-us-east-1', 'ses-eu-west-1', 'postmark', 'gmail', 'outlook', 'office365', 'yahoo', 'icloud', 'zoho', 'qq', '163', 'aliyun']));
    expect(r.body.items.find((p) => p.id === 'sendgrid')).toMatchObject({ host: 'smtp.sendgrid.net', port: 587, security: 'starttls', username: 'apikey', note: expect.stringContaining('apikey') });
    const anonymous = await fetch(`${postroom.baseUrl}/api/v1/settings/presets`);
    expect(anonymous.status).toBe(401);
  });

  it('PUT /api/v1/settings with "preset" fills host, port and security; explicit fields in the same request win', async () => {
    const r = await postroom.api<Record<string, unknown>>('PUT', '/api/v1/settings', { preset: 'sendgrid' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ relayHost: 'smtp.sendgrid.net', relayPort: 587, security: 'starttls', effectivePort: 587 });
    expect(r.body).not.toHaveProperty('preset');

    const yahoo = await postroom.api<Record<string, unknown>>('PUT', '/api/v1/settings', { preset: 'yahoo', relayPort: 587, security: 'starttls' });
    expect(yahoo.status).toBe(200);
    expect(yahoo.body).toMatchObject({ relayHost: 'smtp.mail.yahoo.com', relayPort: 587, security: 'starttls' });

    const ev = await events(postroom, 'source=settings');
    expect(ev[0]!.message).toMatch(/provider preset Yahoo Mail/);
    expect(ev[0]!.details.preset).toBe('yahoo');
  });

  it('an unknown preset is a 400 naming the field, and nothing is saved', async () => {
    const before = (await postroom.api<Record<string, unknown>>('GET', '/api/v1/settings')).body;
    const r = await postroom.api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { preset: 'carrier-pigeon', fromName: 'Changed', timeoutSeconds: 0 });
    expect(r.status).toBe(400);
    expect(r.body.fields.preset).toMatch(/not a known provider preset: "carrier-pigeon"/);
    expect(r.body.fields.timeoutSeconds).toBeDefined();
    expect((await postroom.api('GET', '/api/v1/settings')).body).toEqual(before);
  });

  it('the settings page offers a Provider select whose options carry the values (filled in place by /app.js)', async () => {
    const page = await web.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="f-preset">Provider</label>');
    expect(page.text).toMatch(/<option value="gmail" data-host="smtp\.gmail\.com" data-port="587" data-security="starttls" data-note="[^"]*app password/);
    // the saved settings are Yahoo's host: that option is shown as selected, with its note
    expect(page.text).not.toMatch(/<option value="yahoo"[^>]* selected>/); // port 587 differs from the preset's 465
    expect(page.text).not.toMatch(/<script(?![^>]*src=)/); // no inline script (CSP)
  });

  it('posting the form with a provider fills host, port and security without JavaScript; a field changed by hand wins', async () => {
    const view = (await postroom.api<Record<string, unknown>>('GET', '/api/v1/settings')).body;
    const form = (changes: Record<string, string>) => ({
      relayHost: String(view.relayHost),
      relayPort: view.relayPort === null ? '' : String(view.relayPort),
      security: String(view.security),
      tlsVerify: 'on',
      username: '',
      password: '',
      hostname: '',
      fromName: 'Postroom',
      fromAddress: '',
      adminAddress: '',
      timeoutSeconds: '30',
      poolSize: '10',
      lifetimeHours: '120',
      delayWarningHours: '0',
      reportTime: '07:00',
      ...changes,
    });
    const saved = await web.post('/settings', form({ preset: 'qq' }));
    expect(saved.status).toBe(303);
    expect(saved.headers.get('location')).toMatch(/preset=qq/);
    expect((await postroom.api('GET', '/api/v1/settings')).body).toMatchObject({ relayHost: 'smtp.qq.com', relayPort: 465, security: 'tls' });
    const after = await web.get(saved.headers.get('location')!);
    expect(after.text).toMatch(/<option value="qq"[^>]* selected>/);
    expect(after.text).toContain('authorisation code');

    // htmx: the fragment comes back with the preset applied; the port typed by hand wins
    const fragment = await web.post('/settings', form({ preset: 'zoho', relayHost: 'smtp.qq.com', relayPort: '587', security: 'tls' }), true);
    expect(fragment.status).toBe(200);
    expect((await postroom.api('GET', '/api/v1/settings')).body).toMatchObject({ relayHost: 'smtp.zoho.com', relayPort: 587, security: 'tls' });
    expect(fragment.text).toContain('Provider Zoho Mail: host smtp.zoho.com');

    const bad = await web.post('/settings', form({ preset: 'nonsense' }), true);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Provider is not a known provider preset');
  });
});
