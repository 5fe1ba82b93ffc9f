import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { TokenStub, XOAuth2Relay } from '../helpers/oauth-stubs.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { EventEntry, events, submitSmtp, untilState } from './api.js';

interface SettingsView {
  oauthRefreshTokenSet: boolean;
  oauthClientAuth: string;
  [k: string]: unknown;
}

interface TestEmail {
  ok: boolean;
  code?: string;
  step: string;
  reply: string;
  transcript: string[];
}

const CLIENT_ID = 'postroom client:1';
const CLIENT_SECRET = 'Client/Secret+%:' + randomBytes(6).toString('hex');
const WRONG_SECRET = 'Wrong-Client-Secret-' + randomBytes(6).toString('hex');
const MAILBOX = 'nas@example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OAuth2 token endpoint conversations: failure events, refresh-token rotation, HTTP Basic client authentication', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const stub = new TokenStub();
  const relay = new XOAuth2Relay(() => stub.issued);
  /** Every API answer and page the tests saw: none may hold a secret. */
  const seen: string[] = [];

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const r = await postroom.api<T>(method, path, body);
    seen.push(JSON.stringify(r.body ?? null));
    return r;
  };
  const put = async (values: Record<string, unknown>) => {
    const r = await api<SettingsView>('PUT', '/api/v1/settings', values);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const testEmail = async () => (await api<TestEmail>('POST', '/api/v1/settings/test', { to: 'ops@example.org' })).body;
  const send = (subject: string) => submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'ops@example.org', subject, text: 'hello' });
  const delivered = (count: number) => postroom.until(async () => relay.messages.length >= count, `${count} messages at the relay`);
  const deliveryEventsAfter = async (seenIds: Set<string>): Promise<EventEntry[]> => (await events(postroom, 'source=delivery')).filter((e) => !seenIds.has(e.id));
  const ids = async (): Promise<Set<string>> => new Set((await events(postroom, '')).map((e) => e.id));
  /** The relay stub with OAuth2 at the token stub (generic provider): each test starts from it. */
  const oauthRelay = () => ({
    relayHost: '127.0.0.1',
    relayPort: relay.port,
    security: 'none',
    authEnabled: true,
    authMethod: 'oauth2',
    oauthProvider: 'generic',
    oauthTokenUrl: `${stub.url}/token`,
    oauthClientId: CLIENT_ID,
    username: MAILBOX,
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([stub.start(), relay.start()]);
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, RELAY_RETRY_SECONDS: '0' } }).start();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([stub.stop(), relay.stop()]);
    await db?.drop();
  });

  it('one failed token request raises one error event (not one each from the token service, the delivery worker and relay health), and its recovery one more', async () => {
    stub.mode = 'invalid_client';
    await put({ ...oauthRelay(), oauthClientSecret: WRONG_SECRET });
    const before = await ids();
    const first = await send('token endpoint refuses the client');
    await untilState(postroom, first, 'deferred');
    await postroom.until(async () => (await deliveryEventsAfter(before)).length > 0, 'the failure event');
    await sleep(1000); // events raised on the side (relay health) land within this
    const raised = await deliveryEventsAfter(before);
    expect(raised.map((e) => `${e.level}: ${e.message}`)).toEqual([expect.stringMatching(/^error: OAuth2 token request to OAuth2 provider failed \(invalid_client\)/)]);

    // The same failure again, while it lasts: no new event (the dashboard shows it meanwhile).
    const second = await send('still refused');
    await untilState(postroom, second, 'deferred');
    await sleep(500);
    expect(await deliveryEventsAfter(before)).toHaveLength(1);

    // The episode ends: one event says so.
    stub.mode = 'ok';
    const recovering = await ids();
    await put({ oauthClientSecret: CLIENT_SECRET });
    for (const id of [first, second]) expect((await api('POST', `/api/v1/queue/${id}/flush`)).status).toBeLessThan(300);
    await delivered(2);
    await sleep(1000);
    expect((await deliveryEventsAfter(recovering)).map((e) => `${e.level}: ${e.message}`)).toEqual([expect.stringMatching(/^info: OAuth2 token from OAuth2 provider obtained again/)]);
  });

  it('a provider that rotates refresh tokens: each refresh stores the new one, the next refresh uses it, and it survives a restart', async () => {
    stub.mode = 'ok';
    stub.rotate = true;
    stub.expiresIn = 1; // renewed at half its life: every message after a pause needs a refresh
    const view = await put({ ...oauthRelay(), oauthClientSecret: CLIENT_SECRET, oauthRefreshToken: stub.refreshToken, oauthScope: 'smtp.send offline_access' });
    expect(view.oauthRefreshTokenSet).toBe(true);
    const start = stub.requests.length;
    for (let i = 1; i <= 3; i++) {
      const count = relay.messages.length;
      await send(`after refresh ${i}`);
      await delivered(count + 1);
      await sleep(1100); // the token expires
    }
    const refreshes = stub.requests.slice(start);
    expect(refreshes.length).toBeGreaterThanOrEqual(3);
    // Each refresh used the refresh token the one before it received: none was refused.
    expect(refreshes.map((r) => r.refresh_token)).toEqual(stub.refreshTokens.slice(0, refreshes.length));
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.oauthRefreshTokenSet).toBe(true);
    const rotated = (await events(postroom, 'source=settings')).filter((e) => /OAuth refresh token stored/.test(e.message) && /rotated/.test(e.message));
    expect(rotated.length).toBe(refreshes.length);
    expect(rotated[0]!.details).toMatchObject({ changed: { oauthRefreshToken: '(changed)' } });

    // The latest refresh token is the stored one: a restarted instance refreshes with it.
    stub.expiresIn = 3600;
    await postroom.stop();
    await postroom.start();
    const latest = stub.refreshToken;
    const requests = stub.requests.length;
    const count = relay.messages.length;
    await send('after restart');
    await delivered(count + 1);
    expect(stub.requests[requests]!.refresh_token).toBe(latest);
  });

  it('a provider that accepts only HTTP Basic client authentication: "auto" falls back once and remembers it; "post" and "basic" are used as set', async () => {
    stub.mode = 'ok';
    stub.rotate = false;
    stub.expiresIn = 3600;
    stub.accepts = 'basic';
    stub.client = { id: CLIENT_ID, secret: CLIENT_SECRET };
    const view = await put({ ...oauthRelay(), oauthClientSecret: CLIENT_SECRET, oauthRefreshToken: null, oauthScope: 'smtp.send' });
    expect(view.oauthClientAuth).toBe('auto');

    const start = stub.requests.length;
    const count = relay.messages.length;
    await send('basic only');
    await delivered(count + 1);
    expect(stub.clientAuths.slice(start).map((a) => a.method)).toEqual(['post', 'basic']);
    expect(stub.clientAuths.at(-1)).toEqual({ method: 'basic', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    expect(stub.requests.at(-1)).toEqual({ grant_type: 'client_credentials', scope: 'smtp.send' });

    // Remembered: the test email goes straight to HTTP Basic.
    const remembered = stub.requests.length;
    expect(await testEmail()).toMatchObject({ ok: true });
    expect(stub.clientAuths.slice(remembered).map((a) => a.method)).toEqual(['basic']);

    // "post" never tries HTTP Basic: the provider's refusal is the answer.
    expect((await put({ oauthClientAuth: 'post' })).oauthClientAuth).toBe('post');
    const posted = stub.requests.length;
    expect(await testEmail()).toMatchObject({ ok: false, code: 'oauth_error', step: 'oauth', reply: expect.stringMatching(/^invalid_client/) });
    expect(stub.clientAuths.slice(posted).map((a) => a.method)).toEqual(['post']);

    expect((await put({ oauthClientAuth: 'basic' })).oauthClientAuth).toBe('basic');
    const basic = stub.requests.length;
    expect(await testEmail()).toMatchObject({ ok: true });
    expect(stub.clientAuths.slice(basic).map((a) => a.method)).toEqual(['basic']);
    expect((await api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { oauthClientAuth: 'jwt' })).body.fields).toEqual({ oauthClientAuth: 'must be one of auto, post, basic' });
  });

  it('Edit Settings shows the client authentication and saves it', async () => {
    const web = await new WebSession(postroom).login();
    const html = (await web.get('/settings')).text;
    seen.push(html);
    expect(html).toMatch(/<select id="f-oauthClientAuth" name="oauthClientAuth"/);
    expect(html).toMatch(/<option value="basic" selected>/);
    const v = (await api<SettingsView>('GET', '/api/v1/settings')).body;
    const text = (name: string) => String(v[name] ?? '');
    const form = Object.fromEntries(['relayHost', 'relayPort', 'security', 'username', 'authMethod', 'oauthProvider', 'oauthClientId', 'oauthTokenUrl', 'oauthScope'].map((name) => [name, text(name)]));
    const saved = await web.post('/settings', { ...form, authEnabled: 'on', oauthClientAuth: 'auto' });
    expect(saved.status, saved.text.slice(0, 500)).toBe(303);
    expect(saved.headers.get('location')).toMatch(/oauthClientAuth/);
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.oauthClientAuth).toBe('auto');
  });

  it('no client secret, refresh token or access token appears in any API answer, page, event or log line', async () => {
    seen.push(JSON.stringify(await events(postroom, '')));
    const everything = seen.join('\n') + '\n' + postroom.output;
    for (const s of [CLIENT_SECRET, WRONG_SECRET, ...stub.refreshTokens, ...stub.issued]) {
      expect(everything.includes(s), `secret ${s.slice(0, 12)}… leaked`).toBe(false);
      expect(everything.includes(Buffer.from(s).toString('base64')), `secret ${s.slice(0, 12)}… leaked in base64`).toBe(false);
    }
  });
});
