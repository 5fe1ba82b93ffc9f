import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

type View = Record<string, unknown> & { passwordSet: boolean; updatedAt: string };

const SECRET = 'Sup3r-Secret-Relay-Pw';

/** The whole form as a browser posts it, from the saved settings, with changes. */
function form(view: View, changes: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    relayHost: String(view.relayHost),
    relayPort: view.relayPort === null ? '' : String(view.relayPort),
    security: String(view.security),
    tlsVerify: view.tlsVerify ? 'on' : undefined,
    authEnabled: view.authEnabled ? 'on' : undefined,
    username: String(view.username),
    password: '',
    hostname: String(view.hostname),
    fromName: String(view.fromName),
    fromAddress: String(view.fromAddress),
    rewriteFrom: view.rewriteFrom ? 'on' : undefined,
    adminAddress: String(view.adminAddress),
    timeoutSeconds: String(view.timeoutSeconds),
    poolSize: String(view.poolSize),
    lifetimeHours: String(view.lifetimeHours),
    ...changes,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

describe('Edit Settings page', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;

  const saved = async () => (await postroom.api<View>('GET', '/api/v1/settings')).body;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    web = await new WebSession(postroom).login();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('shows every field with labels, hints, default ports and the password state', async () => {
    const page = await web.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Edit Settings</h1>');
    expect(page.text).toContain('aria-current="page">Edit Settings');
    for (const name of ['relayHost', 'relayPort', 'security', 'tlsVerify', 'authEnabled', 'username', 'password', 'clearPassword', 'hostname', 'fromName', 'fromAddress', 'rewriteFrom', 'adminAddress', 'timeoutSeconds', 'poolSize', 'lifetimeHours']) {
      expect(page.text, name).toContain(`name="${name}"`);
      expect(page.text, name).toContain(`for="f-${name}"`);
    }
    expect(page.text).toContain('None — plain SMTP (default port 25)');
    expect(page.text).toContain('STARTTLS (default port 587)');
    expect(page.text).toContain('Implicit TLS (default port 465)');
    expect(page.text).toMatch(/id="f-password-state">not set</);
  });

  it('refuses a form with errors: 400, each error in place, the values kept, nothing saved', async () => {
    const before = await saved();
    await web.get('/settings');
    const res = await web.post('/settings', form(before, { relayHost: 'relay.example.com', relayPort: '99999', fromAddress: 'not an address', password: SECRET, authEnabled: 'on', username: 'u' }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('<html');
    expect(res.text).toMatch(/id="f-relayPort"[^>]*value="99999"[^>]*\s+aria-invalid="true" aria-describedby="f-relayPort-error f-relayPort-hint"/);
    expect(res.text).toMatch(/<p id="f-relayPort-error" class="error">Relay port must be at most 65535<\/p>/);
    expect(res.text).toMatch(/id="f-fromAddress"[^>]*value="not an address"[^>]*\s+aria-invalid="true" aria-describedby="f-fromAddress-error/);
    expect(res.text).toMatch(/<p id="f-fromAddress-error" class="error">From address must be an email address/);
    expect(res.text).toContain('value="relay.example.com"');
    expect(res.text).toContain('Nothing was saved.');
    // Without JavaScript too the summary takes the focus (the page loads at its top, where it is).
    expect(res.text).toMatch(/<div class="error-summary" role="alert" id="settings-result" tabindex="-1" autofocus/);
    expect(res.text).not.toContain(SECRET);
    expect(await saved()).toEqual(before);

    // htmx: the form fragment alone, also with 400 (htmx 4 swaps it).
    const fragment = await web.post('/settings', form(before, { relayPort: '99999' }), true);
    expect(fragment.status).toBe(400);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toMatch(/^<form id="settings-form"/);
    expect(fragment.text).toContain('id="f-relayPort-error"');
    expect(await saved()).toEqual(before);
  });

  it('saves a correct form: confirmation with the changed fields, event log with actor admin', async () => {
    const before = await saved();
    const res = await web.post('/settings', form(before, { relayHost: 'relay.example.com', security: 'tls' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/settings?saved=relayHost%2Csecurity#settings-result');
    const page = await web.get(res.headers.get('location')!);
    expect(page.text).toContain('Settings saved: relayHost, security');
    expect(page.text).toMatch(/<option value="tls" selected>/);
    expect(await saved()).toMatchObject({ relayHost: 'relay.example.com', security: 'tls', effectivePort: 465 });

    const events = await postroom.api<{ items: { message: string; details: { actor?: string } }[] }>('GET', '/api/v1/events?source=settings&limit=1');
    expect(events.body.items[0]!.message).toBe('Settings changed by admin: relayHost, security');
    expect(events.body.items[0]!.details.actor).toBe('admin');

    // htmx: the fragment with the confirmation, 200.
    const now = await saved();
    const fragment = await web.post('/settings', form(now, { relayPort: '2525' }), true);
    expect(fragment.status).toBe(200);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('Settings saved: relayPort');
    expect(fragment.text).toContain('value="2525"');
  });

  it('keeps, sets and clears the password without ever showing it', async () => {
    let view = await saved();
    const set = await web.post('/settings', form(view, { authEnabled: 'on', username: 'relayuser', password: SECRET }), true);
    expect(set.status).toBe(200);
    expect(set.text).toContain('Settings saved: authEnabled, username, password');
    expect(set.text).not.toContain(SECRET);
    expect(set.text).toMatch(/id="f-password-state">set</);
    expect(set.text).toMatch(/id="f-password" name="password" type="password" value=""/);

    view = await saved();
    expect(view.passwordSet).toBe(true);
    const kept = await web.post('/settings', form(view, { fromName: 'Relay test' }), true);
    expect(kept.text).toContain('Settings saved: fromName');
    expect((await saved()).passwordSet).toBe(true);
    const page = await web.get('/settings');
    expect(page.text).not.toContain(SECRET);
    expect(page.text).not.toContain(Buffer.from(SECRET).toString('base64'));

    view = await saved();
    const cleared = await web.post('/settings', form(view, { authEnabled: undefined, clearPassword: 'on' }), true);
    expect(cleared.text).toContain('Settings saved: authEnabled, password');
    expect(cleared.text).toMatch(/id="f-password-state">not set</);
    expect((await saved()).passwordSet).toBe(false);

    const events = await postroom.api('GET', '/api/v1/events?limit=100');
    expect(JSON.stringify(events.body)).not.toContain(SECRET);
  });

  it('sends the whole page or the form fragment, with Vary: HX-Request', async () => {
    const full = await web.get('/settings');
    const fragment = await web.get('/settings', true);
    expect(full.text).toContain('<html');
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('<form id="settings-form"');
    expect(full.headers.get('vary')).toMatch(/HX-Request/i);
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);
  });

  it('escapes what it shows: a From name with a script tag', async () => {
    const view = await saved();
    const xss = '<script>alert(1)</script>';
    const res = await web.post('/settings', form(view, { fromName: xss }), true);
    expect(res.status).toBe(200);
    const page = await web.get('/settings');
    expect((await saved()).fromName).toBe(xss);
    expect(page.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page.text).not.toContain(xss);
    // And after an error (the posted value shown again).
    const bad = await web.post('/settings', form(view, { fromName: xss, poolSize: '0' }));
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain(xss);
    expect(bad.text).toContain('&lt;script&gt;');
  });

  it('tests the values on screen without saving them ("Test these settings"), then Save keeps them', async () => {
    const sink = new SmtpSink({ starttls: false });
    await sink.start();
    try {
      const before = await saved();
      const values = form(before, { relayHost: '127.0.0.1', relayPort: String(sink.port), security: 'none', authEnabled: undefined, fromAddress: 'nas@example.com' });
      const tested = await web.post('/settings', { ...values, intent: 'test', testTo: 'ops@example.com' });
      expect(tested.status).toBe(200);
      await sink.waitFor(1);
      expect(sink.messages[0]!.to).toEqual(['ops@example.com']);
      expect(tested.text).toContain('Test email sent');
      expect(tested.text).toContain('nothing was saved yet');
      expect(tested.text).toContain(`value="${sink.port}"`); // the form as posted
      expect(await saved()).toEqual(before);

      const noRecipient = await web.post('/settings', { ...values, intent: 'test', testTo: 'not an address' });
      expect(noRecipient.status).toBe(400);
      expect(noRecipient.text).toMatch(/id="f-testTo"[^>]*aria-invalid="true"/);
      expect(sink.messages).toHaveLength(1);

      expect((await web.post('/settings', values)).status).toBe(303);
      expect(await saved()).toMatchObject({ relayHost: '127.0.0.1', relayPort: sink.port });
    } finally {
      await sink.stop();
    }
  });

  it('refuses a post without the CSRF token', async () => {
    const before = await saved();
    const res = await web.request('POST', '/settings', { form: form(before, { relayHost: 'evil.example.com' }) });
    expect(res.status).toBe(403);
    expect(await saved()).toEqual(before);
  });
});
