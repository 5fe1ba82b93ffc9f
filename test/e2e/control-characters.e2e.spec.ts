import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

interface ErrorBody {
  statusCode: number;
  message: string;
  fields?: Record<string, string>;
}

const CONTROL = /control characters/;

/**
 * NUL and other control characters in every text field and filter: PostgreSQL refuses NUL in
 * text, so each must be a 400 naming the field (or stripped where the page drops bad input),
 * never a 500 from the database.
 */
describe('control characters in settings, relays, messages, API filters and pages', () => {
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

  it.each([
    ['username', 'relay\0user'],
    ['password', 'pass\0word'],
    ['fromName', 'NAS\0Alerts'],
    ['fromName', 'NAS \x1b[31mAlerts'],
    ['fromName', 'NAS\x7fAlerts'],
    ['oauthClientId', 'client\0id'],
    ['oauthScope', 'https://outlook.office365.com/.default\0'],
    ['oauthTokenUrl', 'https://login.example.com/token\0'],
    ['oauthClientSecret', 'secret\0'],
    ['oauthRefreshToken', 'refresh\x01token'],
  ])('PUT /api/v1/settings refuses %s with a control character (%j): 400 naming the field, nothing saved', async (field, value) => {
    const before = await postroom.api('GET', '/api/v1/settings');
    const r = await postroom.api<ErrorBody>('PUT', '/api/v1/settings', { [field]: value });
    expect(r.status).toBe(400);
    expect(r.body.fields?.[field]).toMatch(CONTROL);
    expect(await postroom.api('GET', '/api/v1/settings')).toEqual(before);
  });

  it.each([
    ['hostname', 'nas\0.example.com'],
    ['relayHost', 'relay\0.example.com'],
    ['fromAddress', 'alerts\0@example.com'],
    ['adminAddress', 'admin@example.com\0'],
    ['oauthTenantId', 'contoso\0'],
    ['reportTime', '07:00\0'],
  ])('PUT /api/v1/settings refuses %s with NUL (%j): 400 naming the field', async (field, value) => {
    const r = await postroom.api<ErrorBody>('PUT', '/api/v1/settings', { [field]: value });
    expect(r.status).toBe(400);
    expect(Object.keys(r.body.fields ?? {})).toEqual([field]);
  });

  it('PUT /api/v1/settings refuses NUL in an alias name or target: 400 for aliases', async () => {
    for (const aliases of [{ 'ro\0ot': ['ops@example.com'] }, { root: ['ops\0@example.com'] }]) {
      const r = await postroom.api<ErrorBody>('PUT', '/api/v1/settings', { aliases });
      expect(r.status).toBe(400);
      expect(Object.keys(r.body.fields ?? {})).toEqual(['aliases']);
    }
  });

  it('the relays API refuses NUL in a relay username or password: 400 naming the field, no relay added', async () => {
    const before = await postroom.api('GET', '/api/v1/relays');
    for (const [field, value] of [['username', 'backup\0user'], ['password', 'pw\0']] as const) {
      const r = await postroom.api<ErrorBody>('POST', '/api/v1/relays', { host: 'backup.example.com', authEnabled: true, username: 'u', password: 'p', [field]: value });
      expect(r.status, field).toBe(400);
      expect(r.body.fields?.[field]).toMatch(CONTROL);
    }
    expect(await postroom.api('GET', '/api/v1/relays')).toEqual(before);
  });

  it('POST /api/v1/messages refuses control characters in subject and fromName and NUL in text: 400 naming the field', async () => {
    const base = { from: 'alerts@nas.example.com', to: 'ops@example.com', subject: 'ok', text: 'ok' };
    for (const [field, value] of [['subject', 'disk\0full'], ['fromName', 'NAS\0'], ['subject', 'bell\x07'], ['text', 'before\0after'], ['html', '<p>\0</p>']] as const) {
      const r = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { ...base, [field]: value });
      expect(r.status, `${field} ${JSON.stringify(value)}`).toBe(400);
      expect(r.body.fields?.[field]).toMatch(/control characters|NUL/);
    }
    expect((await postroom.api<{ items: unknown[] }>('GET', '/api/v1/queue')).body.items).toEqual([]);
  });

  it.each([
    ['/api/v1/queue?address=ops%00@example.com', 'address'],
    ['/api/v1/queue?address=%1b', 'address'],
    ['/api/v1/mail-log?address=ops%00', 'address'],
    ['/api/v1/mail-log?queueId=%00', 'queueId'],
    ['/api/v1/events?source=listener%00', 'source'],
  ])('GET %s answers 400 naming the filter, not 500', async (url, field) => {
    const r = await postroom.api<ErrorBody>('GET', url);
    expect(r.status).toBe(400);
    expect(r.body.fields?.[field]).toMatch(CONTROL);
  });

  it('the Mail Log page answers 400 with the reason next to the address filter', async () => {
    const page = await web.get('/mail-log?address=ops%00@example.com');
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/Address must not contain control characters/);
    const fragment = await web.get('/mail-log?address=%00', true);
    expect(fragment.status).toBe(400);
    expect(fragment.text).toMatch(CONTROL);
  });

  it('the Logs page answers 400 for a source with NUL', async () => {
    const page = await web.get('/logs?source=listener%00');
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/Source must be one of/);
  });

  it('the Mail Queue page drops the control characters of its address filter (it drops malformed input) and answers 200', async () => {
    const page = await web.get('/queue?address=ops%00@exam%1bple.com');
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="ops@example.com"');
    const fragment = await web.get('/queue?address=%00', true);
    expect(fragment.status).toBe(200);
    // A plain (no-JS) action posts the list's query back: the same rule applies.
    const after = await web.post('/queue/flush-nothing/flush', { back: 'address=a%00b' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/queue?address=ab');
  });

  it('the settings form answers 400 with the reason and saves nothing', async () => {
    const before = await postroom.api('GET', '/api/v1/settings');
    await web.get('/settings');
    const res = await web.post('/settings', { relayHost: '', security: 'starttls', username: 'relay\0user', fromName: 'NAS\0', hostname: '', fromAddress: '', adminAddress: '', timeoutSeconds: '30', poolSize: '10', lifetimeHours: '120' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/From name must not contain control characters/);
    expect(res.text).toMatch(/Username must not contain control characters/);
    expect(res.text).toContain('Nothing was saved.');
    expect(await postroom.api('GET', '/api/v1/settings')).toEqual(before);
  });
});
