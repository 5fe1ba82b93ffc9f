import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

interface TestResult {
  ok: boolean;
  code?: string;
  step: string;
  reply: string;
  elapsedMs: number;
  transcript: string[];
  relay: string;
  saved?: boolean;
}

interface SettingsView {
  relayHost: string;
  relayPort: number | null;
  security: string;
  passwordSet: boolean;
  updatedAt: string;
}

const PASSWORD = 'Wr0ng-but-Secret-Pw!';

describe('Test email with a diagnosis (real sockets, real app)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sinks: SmtpSink[] = [];

  const sink = async (options: ConstructorParameters<typeof SmtpSink>[0]) => {
    const s = await new SmtpSink(options).start();
    sinks.push(s);
    return s;
  };

  const settings = async (values: Record<string, unknown>) => {
    const res = await postroom.api<SettingsView>('PUT', '/api/v1/settings', values);
    expect(res.status).toBe(200);
    return res.body;
  };

  const test = async (body: Record<string, unknown>) => {
    const res = await postroom.api<TestResult>('POST', '/api/v1/settings/test', body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
  });

  beforeEach(async () => {
    await settings({ authEnabled: false, password: null, tlsVerify: true, timeoutSeconds: 5, fromAddress: 'postroom@example.com' });
  });

  afterAll(async () => {
    for (const s of sinks) await s.stop();
    await postroom?.dispose();
    await db?.drop();
  });

  it('needs the API token and a valid address', async () => {
    const anon = await fetch(`${postroom.baseUrl}/api/v1/settings/test`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":"a@example.com"}' });
    expect(anon.status).toBe(401);
    const bad = await postroom.api<{ fields: Record<string, string> }>('POST', '/api/v1/settings/test', { to: 'not an address', settings: { relayPort: 0 } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['settings.relayPort', 'to']);
  });

  it('a refused port is a connection_error at the connect step', async () => {
    const port = await freePort();
    await settings({ relayHost: '127.0.0.1', relayPort: port, security: 'none' });
    const r = await test({ to: 'someone@example.com' });
    expect(r).toMatchObject({ ok: false, code: 'connection_error', step: 'connect', relay: `127.0.0.1:${port}` });
    expect(r.reply).toMatch(/ECONNREFUSED/);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('STARTTLS with a self-signed certificate: tls_error when verifying, success when not', async () => {
    const s = await sink({ starttls: true });
    await settings({ relayHost: '127.0.0.1', relayPort: s.port, security: 'starttls', tlsVerify: true });
    const verified = await test({ to: 'someone@example.com' });
    expect(verified).toMatchObject({ ok: false, code: 'tls_error', step: 'starttls' });
    expect(verified.transcript.join('\n')).toContain('C: STARTTLS');
    expect(s.messages).toHaveLength(0);

    await settings({ tlsVerify: false });
    const ok = await test({ to: 'someone@example.com' });
    expect(ok).toMatchObject({ ok: true, step: 'done' });
    expect(ok.code).toBeUndefined();
    expect(ok.reply).toMatch(/^250 /);
    expect(ok.transcript.join('\n')).toMatch(/Connection upgraded with STARTTLS/);
    await s.waitFor(1);
    expect(s.messages[0]!.to).toEqual(['someone@example.com']);
    expect(s.messages[0]!.data.toString()).toContain('Subject: Postroom test email');

    const log = await postroom.api<{ items: { event: string; to: string; subject: string }[] }>('GET', '/api/v1/mail-log?limit=5');
    expect(log.body.items.find((i) => i.subject === 'Postroom test email' && i.event === 'test')).toBeTruthy();
    const events = await postroom.api<{ items: { level: string; message: string; source: string }[] }>('GET', '/api/v1/events?source=settings&limit=5');
    expect(events.body.items[0]).toMatchObject({ level: 'info', source: 'settings' });
    expect(events.body.items[0]!.message).toMatch(/^Test email to someone@example.com sent/);
  });

  it('implicit TLS with a self-signed certificate fails in the tls step', async () => {
    const s = await sink({ secure: true });
    await settings({ relayHost: '127.0.0.1', relayPort: s.port, security: 'tls', tlsVerify: true });
    const r = await test({ to: 'someone@example.com' });
    expect(r).toMatchObject({ ok: false, code: 'tls_error', step: 'tls' });
    await settings({ tlsVerify: false });
    expect(await test({ to: 'someone@example.com' })).toMatchObject({ ok: true, step: 'done' });
  });

  it('a wrong password is an auth_error; the transcript and the event log never hold the password', async () => {
    const s = await sink({ starttls: false, auth: { user: 'relayuser', pass: 'the-right-one' } });
    await settings({ relayHost: '127.0.0.1', relayPort: s.port, security: 'none', authEnabled: true, username: 'relayuser', password: PASSWORD });
    const r = await test({ to: 'someone@example.com' });
    expect(r).toMatchObject({ ok: false, code: 'auth_error', step: 'auth' });
    expect(r.reply).toMatch(/^535 /);
    const text = r.transcript.join("\n");
    expect(text).toContain('AUTH');
    expect(text).toMatch(/AUTH PLAIN \[redacted\]|AUTH LOGIN/);
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    for (const secret of [PASSWORD, b64(PASSWORD), b64(`\0relayuser\0${PASSWORD}`)]) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(r)).not.toContain(secret);
    }
    expect(s.authAttempts).toEqual([{ user: 'relayuser', ok: false }]);

    const events = await postroom.api('GET', '/api/v1/events?limit=100');
    expect(events.status).toBe(200);
    const all = JSON.stringify(events.body);
    expect(all).toContain('auth_error');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(b64(PASSWORD));

    // With the right password (unsaved) it goes through.
    const ok = await test({ to: 'someone@example.com', settings: { password: 'the-right-one' } });
    expect(ok).toMatchObject({ ok: true, step: 'done' });
    expect(ok.transcript.join('\n')).not.toContain('the-right-one');
    expect(s.authAttempts.at(-1)).toEqual({ user: 'relayuser', ok: true });
  });

  it('a 550 to RCPT is rejected at the rcpt step with the server reply', async () => {
    const s = await sink({ starttls: false, rcptReply: (a) => (a.startsWith('nobody') ? { code: 550, message: 'No such user <here>' } : undefined) });
    await settings({ relayHost: '127.0.0.1', relayPort: s.port, security: 'none' });
    const r = await test({ to: 'nobody@example.com' });
    expect(r).toMatchObject({ ok: false, code: 'rejected', step: 'rcpt' });
    expect(r.reply).toMatch(/^550\b/);
    const events = await postroom.api<{ items: { level: string; message: string }[] }>('GET', '/api/v1/events?source=settings&limit=1');
    expect(events.body.items[0]).toMatchObject({ level: 'error' });
    expect(events.body.items[0]!.message).toMatch(/failed at rcpt \(rejected\)/);
    const log = await postroom.api<{ items: { event: string; to: string; subject: string; reply: string }[] }>('GET', '/api/v1/mail-log?limit=1');
    expect(log.body.items[0]).toMatchObject({ event: 'test', to: 'nobody@example.com', subject: 'Postroom test email' });
  });

  it('tests unsaved values without changing the saved settings, and saves them with saveIfOk', async () => {
    const refused = await freePort();
    const before = await settings({ relayHost: '127.0.0.1', relayPort: refused, security: 'none' });
    const s = await sink({ starttls: false });
    const r = await test({ to: 'someone@example.com', settings: { relayPort: s.port } });
    expect(r).toMatchObject({ ok: true, step: 'done', relay: `127.0.0.1:${s.port}` });
    await s.waitFor(1);
    const after = await postroom.api<SettingsView>('GET', '/api/v1/settings');
    expect(after.body).toEqual(before);

    // A failing test with saveIfOk saves nothing.
    const failed = await test({ to: 'someone@example.com', settings: { relayPort: refused, security: 'starttls' }, saveIfOk: true });
    expect(failed).toMatchObject({ ok: false, saved: false });
    expect((await postroom.api<SettingsView>('GET', '/api/v1/settings')).body).toEqual(before);

    const saved = await test({ to: 'someone@example.com', settings: { relayPort: s.port }, saveIfOk: true });
    expect(saved).toMatchObject({ ok: true, saved: true });
    expect((await postroom.api<SettingsView>('GET', '/api/v1/settings')).body.relayPort).toBe(s.port);
  });

  it('direct delivery (no relay host) looks up the MX hosts first: an unknown domain fails at the dns step', async () => {
    await settings({ relayHost: '' });
    const r = await test({ to: 'someone@nonexistent.invalid' });
    expect(r.ok).toBe(false);
    expect(r.step).toBe('dns');
    expect(r.code).toMatch(/^(rejected|connection_error)$/);
    expect(r.transcript.join('\n')).toContain('looking up the MX hosts of nonexistent.invalid');
  });

  it('the dashboard page shows the diagnosis with the transcript escaped', async () => {
    const s = await sink({ starttls: false, rcptReply: () => ({ code: 550, message: '<script>alert(1)</script>' }) });
    await settings({ relayHost: '127.0.0.1', relayPort: s.port, security: 'none' });
    const web = await new WebSession(postroom).login();
    const page = await web.get('/test-email');
    expect(page.status).toBe(200);
    expect(page.text).toContain('aria-current="page">Send Test Email');
    const res = await web.post('/test-email', { to: 'someone@example.com' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Test email failed');
    expect(res.text).toContain('rejected');
    expect(res.text).toContain('<code>rcpt</code>');
    expect(res.text).toMatch(/<pre class="transcript">[^<]*C: RCPT TO:&lt;someone@example.com&gt;/);
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert(1)');

    const fragment = await web.post('/test-email', { to: 'someone@example.com' }, true);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('id="test-email"');
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);

    const invalid = await web.post('/test-email', { to: 'nope' }, true);
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('aria-invalid="true"');
  });
});
