import { randomBytes } from 'node:crypto';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events } from './api.js';

/** A token endpoint on loopback that records every request's form (client_secret included). */
class RecordingTokenEndpoint {
  private server?: Server;
  readonly requests: Record<string, string>[] = [];
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.requests.push(Object.fromEntries(new URLSearchParams(body)));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'recorded-' + randomBytes(6).toString('hex'), expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface Fields {
  message: string;
  fields: Record<string, string>;
}

type View = Record<string, unknown> & { relayHost: string; relayPort: number | null; security: string; passwordSet: boolean; oauthTokenUrl: string; oauthClientSecretSet: boolean };

const USER = 'relayuser';
const PASSWORD = 'Stored-Relay-Pw-' + randomBytes(6).toString('hex');
const BACKUP_PASSWORD = 'Stored-Backup-Pw-' + randomBytes(6).toString('hex');
const CLIENT_SECRET = 'Stored-Client-Secret-' + randomBytes(6).toString('hex');
const GOOGLE_SECRET = 'Stored-Google-Secret-' + randomBytes(6).toString('hex');
const AGAIN = /enter the password again for the new host/;

/**
 * A stored secret goes only to the host, port and security (or the token endpoint) it was saved
 * with. A listener that accepts the same credentials records every AUTH it gets: it must never
 * see the stored password unless it was typed again for it.
 */
describe('stored secrets are bound to the host they were saved for', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const relay = new SmtpSink({ starttls: false, auth: { user: USER, pass: PASSWORD } });
  const listener = new SmtpSink({ starttls: false, auth: { user: USER, pass: PASSWORD } });
  const tokenEndpoint = new RecordingTokenEndpoint();
  const otherTokenEndpoint = new RecordingTokenEndpoint();
  const googleTokenEndpoint = new RecordingTokenEndpoint();

  const settings = async () => (await postroom.api<View>('GET', '/api/v1/settings')).body;
  const put = (values: Record<string, unknown>) => postroom.api<View & Fields>('PUT', '/api/v1/settings', values);
  const test = (unsaved: Record<string, unknown>) => postroom.api<Fields & { ok: boolean; relay: string }>('POST', '/api/v1/settings/test', { to: 'ops@example.com', settings: unsaved });

  beforeAll(async () => {
    db = await createTestDatabase();
    await Promise.all([relay.start(), listener.start(), tokenEndpoint.start(), otherTokenEndpoint.start(), googleTokenEndpoint.start()]);
    postroom = await new PostroomProcess({
      databaseUrl: db.url,
      env: { ADMIN_PASSWORD: WEB_PASSWORD, OAUTH_GOOGLE_AUTH_URL: `http://127.0.0.1:${googleTokenEndpoint.port}/authorize`, OAUTH_GOOGLE_TOKEN_URL: googleTokenEndpoint.url },
    }).start();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await Promise.all([relay.stop(), listener.stop(), tokenEndpoint.stop(), otherTokenEndpoint.stop(), googleTokenEndpoint.stop()]);
    await db?.drop();
  });

  it('the test email with another host, port or security and no password sends nothing and answers 400', async () => {
    const saved = await put({ relayHost: '127.0.0.1', relayPort: relay.port, security: 'none', authEnabled: true, username: USER, password: PASSWORD, fromAddress: 'nas@example.com', timeoutSeconds: 5 });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);

    for (const unsaved of [{ relayPort: listener.port }, { relayHost: 'localhost', relayPort: listener.port }, { relayPort: null }, { security: 'starttls' }, { password: '', relayPort: listener.port }]) {
      const r = await test(unsaved);
      expect(r.status, JSON.stringify(unsaved)).toBe(400);
      expect(r.body.fields).toEqual({ 'settings.password': expect.stringMatching(AGAIN) });
    }
    expect(listener.authAttempts).toEqual([]);
    expect(listener.messages).toEqual([]);

    // The saved host still gets its stored password; another host gets it only when typed again.
    expect((await test({ tlsVerify: false })).body).toMatchObject({ ok: true, relay: `127.0.0.1:${relay.port}` });
    expect(relay.authAttempts).toEqual([{ user: USER, ok: true }]);
    expect((await test({ relayPort: listener.port, password: PASSWORD })).body).toMatchObject({ ok: true, relay: `127.0.0.1:${listener.port}` });
    expect(listener.authAttempts).toEqual([{ user: USER, ok: true }]);
  });

  it('a save that moves the relay elsewhere without the password is refused on that field and saves nothing', async () => {
    const before = await settings();
    for (const change of [{ relayPort: listener.port }, { relayHost: 'localhost' }, { security: 'tls' }, { relayPort: null }, { preset: 'sendgrid' }, { relayPort: listener.port, password: '' }]) {
      const r = await put(change);
      expect(r.status, JSON.stringify(change)).toBe(400);
      expect(r.body.fields).toEqual({ password: expect.stringMatching(AGAIN) });
    }
    expect(await settings()).toEqual(before);

    // Not the destination: the password stays.
    expect((await put({ tlsVerify: false, username: USER })).status).toBe(200);
    expect((await settings()).passwordSet).toBe(true);

    const moved = await put({ relayPort: listener.port, password: PASSWORD });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ relayPort: listener.port, passwordSet: true });
  });

  it('a password that SASL does not use is dropped when the relay moves, and the event says so', async () => {
    expect((await put({ authEnabled: false })).status).toBe(200);
    const moved = await put({ relayPort: relay.port });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ relayPort: relay.port, passwordSet: false });
    const [last] = await events(postroom, 'source=settings');
    expect(last!.details.changed).toMatchObject({ password: expect.stringMatching(/cleared/) });
    expect(JSON.stringify(last)).not.toContain(PASSWORD);
    // Back to the state the other tests start from.
    expect((await put({ authEnabled: true, password: PASSWORD })).status).toBe(200);
  });

  it('the settings page shows the reason next to the password field', async () => {
    const view = await settings();
    const web = await new WebSession(postroom).login();
    await web.get('/settings');
    const res = await web.post('/settings', {
      relayHost: view.relayHost,
      relayPort: String(listener.port),
      security: view.security,
      authEnabled: 'on',
      authMethod: 'password',
      username: USER,
      password: '',
      fromAddress: 'nas@example.com',
      timeoutSeconds: '5',
    });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/<p id="f-password-error" class="error">Password [^<]*enter the password again for the new host<\/p>/);
    expect((await settings()).relayPort).toBe(relay.port);
  });

  it('a backup relay keeps its password only for its own host, port and security', async () => {
    const added = await postroom.api<{ id: string }>('POST', '/api/v1/relays', { host: '127.0.0.1', port: relay.port, security: 'none', authEnabled: true, username: USER, password: BACKUP_PASSWORD, enabled: false });
    expect(added.status).toBe(201);
    const url = `/api/v1/relays/${added.body.id}`;
    const before = (await postroom.api(`GET`, url)).body;
    for (const change of [{ port: listener.port }, { host: 'localhost' }, { security: 'tls' }, { port: null }, { port: listener.port, password: '' }]) {
      const r = await postroom.api<Fields>('PUT', url, change);
      expect(r.status, JSON.stringify(change)).toBe(400);
      expect(r.body.fields).toEqual({ password: expect.stringMatching(AGAIN) });
    }
    expect((await postroom.api('GET', url)).body).toEqual(before);
    expect((await postroom.api('PUT', url, { tlsVerify: false, priority: 9 })).status).toBe(200);
    const moved = await postroom.api<{ port: number; passwordSet: boolean }>('PUT', url, { port: listener.port, password: BACKUP_PASSWORD });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ port: listener.port, passwordSet: true });

    // Without SASL, the password is not sent anywhere: it goes with the old host.
    expect((await postroom.api('PUT', url, { authEnabled: false })).status).toBe(200);
    const unused = await postroom.api<{ passwordSet: boolean }>('PUT', url, { port: relay.port });
    expect(unused.status).toBe(200);
    expect(unused.body.passwordSet).toBe(false);
  });

  it('OAuth2 secrets go only to the token endpoint they were saved for, and their access token only to the relay', async () => {
    const saved = await put({ authMethod: 'oauth2', oauthProvider: 'generic', oauthTokenUrl: tokenEndpoint.url, oauthClientId: 'postroom', oauthClientSecret: CLIENT_SECRET, username: 'nas@example.com' });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);

    const tested = await test({ oauthTokenUrl: otherTokenEndpoint.url });
    expect(tested.status).toBe(400);
    expect(tested.body.fields).toEqual({ 'settings.oauthClientSecret': expect.stringMatching(/was saved for another token endpoint or relay: enter the client secret again for the new one/) });
    expect(otherTokenEndpoint.requests).toEqual([]);

    for (const change of [{ oauthTokenUrl: otherTokenEndpoint.url }, { oauthProvider: 'microsoft', oauthTenantId: 'contoso.onmicrosoft.com' }]) {
      const r = await put(change);
      expect(r.status, JSON.stringify(change)).toBe(400);
      expect(r.body.fields).toEqual({ oauthClientSecret: expect.stringMatching(/was saved for another token endpoint or relay: enter the client secret again for the new one/) });
    }
    expect((await settings()).oauthTokenUrl).toBe(tokenEndpoint.url);

    // Nor does the access token it mints go to another relay: a bearer credential for the mailbox itself.
    const minted = tokenEndpoint.requests.length;
    for (const change of [{ relayPort: listener.port }, { relayHost: 'localhost' }, { security: 'tls' }]) {
      const t = await test(change);
      expect(t.status, JSON.stringify(change)).toBe(400);
      expect(t.body.fields).toEqual({ 'settings.oauthClientSecret': expect.stringMatching(/again for the new one/) });
      expect((await put(change)).status, JSON.stringify(change)).toBe(400);
    }
    expect(tokenEndpoint.requests).toHaveLength(minted);

    // The saved endpoint still gets it; the new one once it is typed again.
    await test({});
    expect(tokenEndpoint.requests.at(-1)).toMatchObject({ client_secret: CLIENT_SECRET });
    expect((await put({ oauthTokenUrl: otherTokenEndpoint.url, oauthClientSecret: CLIENT_SECRET })).status).toBe(200);
    await test({});
    expect(otherTokenEndpoint.requests).toEqual([expect.objectContaining({ client_secret: CLIENT_SECRET })]);
  });

  it('"Authorize with Google" sends the client secret to Google only while it is saved for Google', async () => {
    const web = await new WebSession(postroom).login();
    await web.get('/settings');
    // Saved now: a generic provider's client secret.
    expect((await web.post('/oauth/google/authorize')).status).toBe(400);

    // Google saved and the authorization started; another provider saved before Google calls back.
    expect((await put({ oauthProvider: 'google', oauthClientId: 'google-client', oauthClientSecret: GOOGLE_SECRET })).status).toBe(200);
    const start = await web.post('/oauth/google/authorize');
    expect(start.status).toBe(303);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    expect((await put({ oauthProvider: 'generic', oauthTokenUrl: tokenEndpoint.url, oauthClientSecret: CLIENT_SECRET })).status).toBe(200);
    const callback = await web.get(`/oauth/google/callback?code=some-code&state=${encodeURIComponent(state)}`);
    expect(callback.status).toBe(400);
    expect(googleTokenEndpoint.requests).toEqual([]);
  });
});
