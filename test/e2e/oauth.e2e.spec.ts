import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { TokenStub, XOAuth2Relay } from '../helpers/oauth-stubs.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { Page, events, mailLog, submitSmtp, untilState } from './api.js';

interface SettingsView {
  authMethod: string;
  oauthProvider: string;
  oauthClientSecretSet: boolean;
  oauthRefreshTokenSet: boolean;
  oauthServiceAccountKeySet: boolean;
  [k: string]: unknown;
}

const CLIENT_SECRET = 'Generic-Client-Secret-' + randomBytes(6).toString('hex');
const WRONG_SECRET = 'Wrong-Client-Secret-' + randomBytes(6).toString('hex');
const GOOGLE_SECRET = 'Google-Client-Secret-' + randomBytes(6).toString('hex');
const MS_SECRET = 'Microsoft-Client-Secret-' + randomBytes(6).toString('hex');
const MAILBOX = 'nas@example.com';

describe('OAuth2 (XOAUTH2) relay authentication, against a stub token endpoint and an XOAUTH2 relay on loopback', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;
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
  const page = async (path: string) => {
    const r = await web.get(path);
    seen.push(r.text);
    return r;
  };
  const send = (subject: string) => submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'ops@example.org', subject, text: 'hello' });
  const delivered = (count: number) => postroom.until(async () => relay.messages.length >= count, `${count} messages at the relay`);

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([stub.start(), relay.start()]);
    postroom = await new PostroomProcess({
      databaseUrl: db.url,
      env: { ADMIN_PASSWORD: WEB_PASSWORD, OAUTH_GOOGLE_AUTH_URL: `${stub.url}/authorize`, OAUTH_GOOGLE_TOKEN_URL: `${stub.url}/token/google`, RELAY_RETRY_SECONDS: '0' },
    }).start();
    web = await new WebSession(postroom).login();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([stub.stop(), relay.stop()]);
    await db?.drop();
  });

  it('validates the OAuth fields with one reason per field and saves nothing', async () => {
    const bad = await api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      authEnabled: true,
      authMethod: 'oauth2',
      oauthProvider: 'generic',
      oauthTokenUrl: 'http://login.example.com/token',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual({ oauthTokenUrl: expect.stringMatching(/https/) });
    const missing = await api<{ fields: Record<string, string> }>('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', authEnabled: true, authMethod: 'oauth2', oauthProvider: 'microsoft' });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.fields).sort()).toEqual(['oauthClientId', 'oauthClientSecret', 'oauthTenantId', 'username']);
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.authMethod).toBe('password');
  });

  it('client credentials (generic provider): delivers with the stub token; secrets are write-only', async () => {
    const view = await put({
      relayHost: '127.0.0.1',
      relayPort: relay.port,
      security: 'none',
      authEnabled: true,
      authMethod: 'oauth2',
      oauthProvider: 'generic',
      oauthTokenUrl: `${stub.url}/token`,
      oauthClientId: 'postroom-client',
      oauthClientSecret: CLIENT_SECRET,
      oauthScope: 'smtp.send',
      username: MAILBOX,
    });
    expect(view).toMatchObject({ authMethod: 'oauth2', oauthProvider: 'generic', oauthClientSecretSet: true, oauthRefreshTokenSet: false });
    expect(view).not.toHaveProperty('oauthClientSecret');

    const id = await send('client credentials');
    await delivered(1);
    expect(stub.requests.at(-1)).toEqual({ grant_type: 'client_credentials', client_id: 'postroom-client', client_secret: CLIENT_SECRET, scope: 'smtp.send' });
    expect(relay.messages[0]).toEqual({ to: ['ops@example.org'], token: stub.issued.at(-1), user: MAILBOX });
    expect(relay.auths.every((a) => a.method === 'XOAUTH2')).toBe(true);
    const log = await postroom.until(async () => (await mailLog(postroom, `queueId=${id}`)).find((e) => e.event === 'sent'), 'sent');
    expect(log.relay).toBe(`127.0.0.1:${relay.port}`);
  });

  it('an expired token is refreshed before the next message is sent', async () => {
    stub.expiresIn = 1;
    await put({ oauthScope: 'smtp.send offline' }); // a settings change drops the cached token
    const before = stub.issued.length;
    await send('short-lived token 1');
    await delivered(2);
    const first = relay.messages[1]!.token;
    expect(first).toBe(stub.issued[before]);
    await new Promise((r) => setTimeout(r, 1200));
    await send('short-lived token 2');
    await delivered(3);
    const second = relay.messages[2]!.token;
    expect(second).not.toBe(first);
    expect(second).toBe(stub.issued.at(-1));
    expect(stub.issued.length).toBeGreaterThanOrEqual(before + 2);
    stub.expiresIn = 3600;
  });

  it('a token endpoint answering invalid_client defers the message with that reason and raises the warning', async () => {
    stub.mode = 'invalid_client';
    await put({ oauthClientSecret: WRONG_SECRET });
    const id = await send('invalid client');
    const entry = await untilState(postroom, id, 'deferred');
    expect(entry.lastError).toMatch(/invalid_client: AADSTS7000215: Invalid client secret provided\./);
    const deferred = await postroom.until(async () => (await mailLog(postroom, `queueId=${id}`)).find((e) => e.event === 'deferred'), 'deferred entry');
    expect(deferred.reply).toMatch(/invalid_client/);
    expect((await mailLog(postroom, `queueId=${id}`)).some((e) => e.event === 'bounced')).toBe(false);

    const raised = await postroom.until(async () => (await events(postroom, 'source=delivery')).filter((e) => e.message.startsWith('OAuth2 token request to')), 'the OAuth event');
    expect(raised).toHaveLength(1); // once per failure episode
    expect(raised[0]).toMatchObject({ level: 'error', details: expect.objectContaining({ error: 'invalid_client', provider: 'generic' }) });
    seen.push(JSON.stringify(await events(postroom, '')));

    const home = await page('/');
    expect(home.text).toContain('Relay login failing');
    expect(home.text).toContain('invalid_client');
    expect((await page('/dashboard/status')).text).toContain('AADSTS7000215');

    // The test email: its own step and code, the provider's answer, the request without secrets.
    const test = await api<{ ok: boolean; code: string; step: string; reply: string; transcript: string[] }>('POST', '/api/v1/settings/test', { to: 'ops@example.org' });
    expect(test.body).toMatchObject({ ok: false, code: 'oauth_error', step: 'oauth', reply: 'invalid_client: AADSTS7000215: Invalid client secret provided.' });
    expect(test.body.transcript.join('\n')).toContain(`POST ${stub.url}/token grant_type=client_credentials → 401`);

    // The next good token clears the warning and the message goes out.
    stub.mode = 'ok';
    await put({ oauthClientSecret: CLIENT_SECRET });
    expect((await api('POST', `/api/v1/queue/${id}/flush`)).status).toBeLessThan(300);
    await postroom.until(async () => relay.messages.some((m) => m.token === stub.issued.at(-1)) && relay.messages.length >= 4, 'the deferred message delivered');
    await postroom.until(async () => !(await page('/')).text.includes('Relay login failing'), 'the warning to go');
    expect((await events(postroom, 'source=delivery')).some((e) => /obtained again/.test(e.message))).toBe(true);
  });

  it('the test email over OAuth2 succeeds and shows the token request without secrets', async () => {
    const test = await api<{ ok: boolean; transcript: string[] }>('POST', '/api/v1/settings/test', { to: 'ops@example.org' });
    expect(test.body.ok).toBe(true);
    const text = test.body.transcript.join('\n');
    expect(text).toContain(`POST ${stub.url}/token grant_type=client_credentials → 200`);
    expect(text).toMatch(/AUTH XOAUTH2 \[redacted\]/);
  });

  it('"Authorize with Google": state mismatch is refused, the code exchange stores the refresh token sealed', async () => {
    await put({ oauthProvider: 'google', oauthClientId: 'google-client.apps.googleusercontent.com', oauthClientSecret: GOOGLE_SECRET, oauthTokenUrl: '', oauthScope: '' });
    const settingsPage = await page('/settings');
    expect(settingsPage.text).toContain('Authorize with Google');
    expect(settingsPage.text).toContain('action="/oauth/google/authorize"');

    const start = await web.post('/oauth/google/authorize');
    expect(start.status).toBe(303);
    const location = new URL(start.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${stub.url}/authorize`);
    const q = location.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('google-client.apps.googleusercontent.com');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('scope')).toBe('https://mail.google.com/');
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('redirect_uri')).toBe(`${postroom.baseUrl}/oauth/google/callback`);
    const state = q.get('state')!;
    expect(state.length).toBeGreaterThan(20);

    // The "user" consents: the stub hands out a code bound to the challenge.
    const code = 'code-' + randomBytes(6).toString('hex');
    stub.codes.set(code, { challenge: q.get('code_challenge')!, clientId: q.get('client_id')! });

    const wrong = await web.get(`/oauth/google/callback?code=${code}&state=not-the-state`);
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/state/);
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.oauthRefreshTokenSet).toBe(false);

    // Without the session cookie (SameSite=Strict is not sent on Google's cross-site redirect):
    // one same-site bounce to the same URL, which then meets the login wall. Nothing stored.
    const anonymous = await fetch(`${postroom.baseUrl}/oauth/google/callback?code=${code}&state=${state}`, { redirect: 'manual' });
    expect(anonymous.status).toBe(200);
    const again = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(await anonymous.text())?.[1]?.replace(/&#38;/g, '&');
    expect(again).toBe(`/oauth/google/callback?code=${code}&state=${state}&bounced=1`);
    const wall = await fetch(`${postroom.baseUrl}${again}`, { redirect: 'manual' });
    expect(wall.status).toBe(303);
    expect(wall.headers.get('location')).toMatch(/^\/login/);
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.oauthRefreshTokenSet).toBe(false);

    const ok = await web.get(`/oauth/google/callback?code=${code}&state=${encodeURIComponent(state)}`);
    expect(ok.status, ok.text).toBe(303);
    expect(ok.headers.get('location')).toBe('/settings?authorized=google');
    const exchange = stub.requests.at(-1)!;
    expect(exchange).toMatchObject({ grant_type: 'authorization_code', code, client_id: 'google-client.apps.googleusercontent.com', client_secret: GOOGLE_SECRET, redirect_uri: `${postroom.baseUrl}/oauth/google/callback` });
    expect((await api<SettingsView>('GET', '/api/v1/settings')).body.oauthRefreshTokenSet).toBe(true);
    expect((await page('/settings?authorized=google')).text).toContain('Authorized with Google');
    expect((await events(postroom, 'source=settings')).some((e) => /OAuth refresh token stored by admin/.test(e.message))).toBe(true);

    // The same state cannot be used twice.
    expect((await web.get(`/oauth/google/callback?code=${code}&state=${encodeURIComponent(state)}`)).status).toBe(400);

    // Mail now goes with a token from the refresh-token grant at (the stub of) Google.
    const count = relay.messages.length;
    await send('google');
    await delivered(count + 1);
    expect(stub.requests.at(-1)).toEqual({ grant_type: 'refresh_token', client_id: 'google-client.apps.googleusercontent.com', client_secret: GOOGLE_SECRET, refresh_token: stub.refreshToken });
    expect(relay.messages.at(-1)!.token).toBe(stub.issued.at(-1));
  });

  it('the settings page: one OAuth2 fieldset, secrets only as set / not set, errors in place', async () => {
    await page('/settings');
    const form = {
      relayHost: '127.0.0.1',
      relayPort: String(relay.port),
      security: 'none',
      authEnabled: 'on',
      authMethod: 'oauth2',
      oauthProvider: 'generic',
      oauthTenantId: '',
      oauthClientId: 'ms-client',
      oauthClientSecret: MS_SECRET,
      oauthTokenUrl: 'http://login.example.com/token',
      oauthScope: '',
      username: MAILBOX,
    };
    const bad = await web.post('/settings', form);
    seen.push(bad.text);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Token URL must be an https:// URL');
    expect(bad.text).not.toContain(MS_SECRET);

    const saved = await web.post('/settings', { ...form, oauthProvider: 'microsoft', oauthTenantId: 'contoso.onmicrosoft.com', oauthTokenUrl: '', clearOauthRefreshToken: 'on' });
    expect(saved.status, saved.text.slice(0, 300)).toBe(303);
    expect(saved.headers.get('location')).toMatch(/oauthProvider/);
    const view = (await api<SettingsView>('GET', '/api/v1/settings')).body;
    expect(view).toMatchObject({ authMethod: 'oauth2', oauthProvider: 'microsoft', oauthTenantId: 'contoso.onmicrosoft.com', oauthClientSecretSet: true, oauthRefreshTokenSet: false });
    const html = (await page('/settings')).text;
    expect(html).toMatch(/<option value="oauth2" selected>/);
    expect(html).toMatch(/<option value="microsoft" selected>/);
    expect(html).toMatch(/Client secret <span class="badge sent" id="f-oauthClientSecret-state">set<\/span>/);
    expect(html).toMatch(/Refresh token <span class="badge hold" id="f-oauthRefreshToken-state">not set<\/span>/);
    const changed = (await events(postroom, 'source=settings')).find((e) => /oauthClientSecret/.test(e.message));
    expect(changed?.details).toMatchObject({ changed: expect.objectContaining({ oauthClientSecret: '(changed)' }) });
  });

  it('no secret appears in any API answer, page, log line or event', async () => {
    seen.push(JSON.stringify((await api<Page<unknown>>('GET', '/api/v1/events?limit=500')).body));
    seen.push(JSON.stringify((await api('GET', '/api/v1/relays')).body));
    seen.push(JSON.stringify((await api('GET', '/api/v1/mail-log?limit=500')).body));
    for (const p of ['/', '/settings', '/logs', '/mail-log', '/test-email']) seen.push((await page(p)).text);
    const everything = seen.join('\n') + '\n' + postroom.output;
    const secrets = [CLIENT_SECRET, WRONG_SECRET, GOOGLE_SECRET, MS_SECRET, stub.refreshToken, ...stub.issued];
    for (const s of secrets) {
      expect(everything.includes(s), `secret ${s.slice(0, 12)}… leaked`).toBe(false);
      expect(everything.includes(Buffer.from(s).toString('base64')), `secret ${s.slice(0, 12)}… leaked in base64`).toBe(false);
    }
  });
});
