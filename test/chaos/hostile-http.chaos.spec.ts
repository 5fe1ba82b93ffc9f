import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawSmtp } from '../e2e/raw-smtp.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { report, sql, until } from './support.js';

/** The relay password: it must never come back out, in any form. */
const SASL = 'S4sl-Secret-' + 'zq81Xv';
const SASL_USER = 'relayuser';
const b64 = (v: string) => Buffer.from(v).toString('base64');
const SECRET_FORMS = [SASL, b64(SASL), b64(`\0${SASL_USER}\0${SASL}`), b64(`${SASL_USER}\0${SASL}`), encodeURIComponent(SASL)];

/** What a hostile sender controls, each a different payload so a miss says where. */
const XSS = {
  subject: '<script>alert("subject")</script>',
  encodedSubject: '<img src=x onerror=alert("encoded-subject")>',
  smtpFrom: "x'onmouseover='alert@example.com",
  smtpTo: "o'onfocus='alert+to@example.com",
  // Quoted local parts that break out of an attribute; one with < or > is refused at intake (no transport can send it).
  apiFrom: '"x\\"onload=alert(3)//"@example.com',
  apiTo: '"y\'onfocus=\'alert(4)"@example.com',
  reply: '<script>alert("reply")</script>',
  deferReply: '<b onmouseover=alert("defer")>later</b>',
  event: '<script>alert("event")</script>',
};

/** Handlebars' escaping ({{value}}). */
const escapeHbs = (s: string) => s.replace(/[&<>"'`=]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' })[c]!);

/** A "relay" whose greeting is a script tag: its failure lands in the event log with that text. */
class EvilGreeter {
  private readonly server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.end(`${XSS.event}\r\n`);
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async stop(): Promise<void> {
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('hostile HTTP input', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let web: WebSession;
  const sink = new SmtpSink({
    starttls: false,
    rcptReply: (a) => (a === 'bounce-xss@example.com' ? { code: 550, message: XSS.reply } : a === 'defer-xss@example.com' ? { code: 451, message: XSS.deferReply } : undefined),
  });
  const authSink = new SmtpSink({ starttls: false, auth: { user: SASL_USER, pass: 'not-the-stored-one' } });
  const greeter = new EvilGreeter();
  /** Every response body (and its headers) the tests saw: none may hold the password. */
  const seen: { where: string; text: string }[] = [];
  const numbers: Record<string, unknown> = {};

  /** A raw HTTP call, recorded. token: undefined = the right one, null = none, string = that one. */
  const call = async (method: string, path: string, o: { token?: string | null; json?: unknown; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const token = o.token === undefined ? postroom.token : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] = 'application/json';
    }
    if (o.type) headers['content-type'] = o.type;
    const res = await fetch(postroom.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    seen.push({ where: `${method} ${path}`, text: text + JSON.stringify([...res.headers]) });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json: json as Record<string, unknown> & { fields?: Record<string, string>; items?: unknown[]; id?: string }, headers: res.headers };
  };
  const settings = async () => (await call('GET', '/api/v1/settings')).json;
  const page = async (session: WebSession, path: string) => {
    const r = await session.get(path);
    seen.push({ where: `page ${path}`, text: r.text + JSON.stringify([...r.headers]) });
    return r;
  };
  const smtpSubmit = async (from: string, to: string[], head: string) => {
    const smtp = await RawSmtp.connect(postroom.smtpPort);
    try {
      expect((await smtp.read()).code).toBe(220);
      expect((await smtp.command('EHLO hostile.example')).code).toBe(250);
      expect((await smtp.command(`MAIL FROM:<${from}>`)).code).toBe(250);
      for (const t of to) expect((await smtp.command(`RCPT TO:<${t}>`)).code).toBe(250);
      expect((await smtp.command('DATA')).code).toBe(354);
      const done = await smtp.data(`${head}\r\n\r\nhostile body\r\n`);
      expect(done.code).toBe(250);
      return /queued as ([0-9A-Z]{17})/.exec(done.text)![1]!;
    } finally {
      smtp.close();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    await authSink.start();
    await greeter.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, LOG_LEVEL: 'debug' } }).start();
    // The password is stored from the start: every response of every test is checked for it.
    const r = await call('PUT', '/api/v1/settings', { json: { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false, username: SASL_USER, password: SASL, fromAddress: 'nas@example.com' } });
    expect(r.status).toBe(200);
    web = await new WebSession(postroom).login();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await authSink.stop();
    await greeter.stop();
    await db?.drop();
  });

  it('refuses the API without a token, with a wrong one and with another scheme (401), and changes nothing', async () => {
    const before = await settings();
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/queue'],
      ['GET', '/api/v1/queue/counts'],
      ['POST', '/api/v1/queue/flush'],
      ['DELETE', '/api/v1/queue'],
      ['GET', '/api/v1/mail-log'],
      ['GET', '/api/v1/events'],
      ['GET', '/api/v1/settings'],
      ['PUT', '/api/v1/settings', { relayHost: 'evil.example.com' }],
      ['POST', '/api/v1/messages', { from: 'a@example.com', to: 'b@example.com', subject: 'no token', text: 'x' }],
      ['POST', '/api/v1/settings/test', { to: 'b@example.com' }],
      ['GET', '/api/v1/reports/today'],
    ];
    let refused = 0;
    for (const [method, path, json] of routes) {
      for (const auth of [{ token: null }, { token: 'wrong-token-0123456789abcdef' }, { token: null, headers: { authorization: `Basic ${b64(`admin:${postroom.token}`)}` } }, { token: null, headers: { authorization: `Bearer ${postroom.token}x` } }]) {
        const r = await call(method, path, { ...auth, json });
        expect(r.status, `${method} ${path}`).toBe(401);
        refused++;
      }
    }
    expect(await settings()).toEqual(before);
    expect(await sql(db.url, `SELECT id FROM message`)).toEqual([]);
    numbers.unauthorizedRefused = refused;
  });

  it('refuses invalid settings with 400 and one reason per field, and saves nothing (API and form)', async () => {
    const before = await settings();
    const eventsBefore = (await sql(db.url, `SELECT id FROM event WHERE source = 'settings'`)).length;
    const invalid: Record<string, unknown> = {
      relayHost: 'not a host!',
      relayPort: 70000,
      security: 'ssl3',
      tlsVerify: 'yes',
      authEnabled: 1,
      username: 'a\r\nb',
      password: 42,
      hostname: '-bad-.example',
      fromName: 'x\r\nBcc: evil@example.com',
      fromAddress: 'not-an-address',
      adminAddress: 'nobody',
      rewriteFrom: 'true',
      timeoutSeconds: 0,
      poolSize: 1000,
      lifetimeHours: 1.5,
      reportEnabled: 'on',
      reportTime: '25:00',
      notASetting: 1,
    };
    for (const [field, value] of Object.entries(invalid)) {
      const r = await call('PUT', '/api/v1/settings', { json: { relayHost: 'valid.example.com', [field]: value } });
      expect(r.status, field).toBe(400);
      expect(Object.keys(r.json.fields ?? {}), field).toEqual([field]);
    }
    const all = await call('PUT', '/api/v1/settings', { json: invalid });
    expect(all.status).toBe(400);
    expect(Object.keys(all.json.fields ?? {}).sort()).toEqual(Object.keys(invalid).sort());
    // Not JSON, or not an object.
    for (const body of ['{"relayHost": ', '[1,2,3]', '"text"', 'null']) {
      const r = await call('PUT', '/api/v1/settings', { body, type: 'application/json' });
      expect(r.status, body).toBe(400);
    }
    // The dashboard form: 400, the errors in place, nothing saved.
    await page(web, '/settings');
    const form = await web.post('/settings', { relayHost: 'not a host!', relayPort: '70000', security: 'ssl3', timeoutSeconds: 'abc', poolSize: '-1', lifetimeHours: '', fromAddress: '<script>@x' });
    seen.push({ where: 'POST /settings', text: form.text });
    expect(form.status).toBe(400);
    expect(form.text).toContain('Nothing was saved.');
    expect(form.text).not.toContain('<script>@x');
    expect(await settings()).toEqual(before);
    expect((await sql(db.url, `SELECT id FROM event WHERE source = 'settings'`)).length).toBe(eventsBefore);
    numbers.invalidSettingsFields = Object.keys(invalid).length;
  });

  it('answers 413 to oversized bodies (JSON over 12 MB, forms over 1 MB) and stores nothing', async () => {
    const before = await settings();
    const big = 'x'.repeat(13 * 1024 * 1024);
    const msg = await call('POST', '/api/v1/messages', { json: { from: 'a@example.com', to: 'b@example.com', subject: 'big', text: big } });
    expect(msg.status).toBe(413);
    const put = await call('PUT', '/api/v1/settings', { json: { fromName: big } });
    expect(put.status).toBe(413);
    // Under the transport limit but over the field's: 400 for that field.
    const text = await call('POST', '/api/v1/messages', { json: { from: 'a@example.com', to: 'b@example.com', subject: 'big', text: 'y'.repeat(11 * 1024 * 1024) } });
    expect(text.status).toBe(400);
    expect(Object.keys(text.json.fields ?? {})).toEqual(['text']);
    // Forms: the login and the settings page.
    const login = await call('POST', '/login', { token: null, body: `password=${'p'.repeat(2 * 1024 * 1024)}`, type: 'application/x-www-form-urlencoded' });
    expect(login.status).toBe(413);
    const form = await call('POST', '/settings', { token: null, body: `_csrf=${encodeURIComponent(web.csrf)}&fromName=${'n'.repeat(2 * 1024 * 1024)}`, type: 'application/x-www-form-urlencoded', headers: { cookie: web.cookie } });
    expect(form.status).toBe(413);
    expect(await settings()).toEqual(before);
    expect(await sql(db.url, `SELECT id FROM message`)).toEqual([]);
    // Still serving.
    expect((await fetch(`${postroom.baseUrl}/readyz`)).status).toBe(200);
  });

  it('renders what senders and relays wrote as text on every dashboard page (subject, from, to, reply, event message)', async () => {
    const m1 = await smtpSubmit(XSS.smtpFrom, ['ok@example.com', 'bounce-xss@example.com', XSS.smtpTo], `From: cron@nas.local\r\nSubject: ${XSS.subject}`);
    const m2 = await smtpSubmit('cron@nas.local', ['defer-xss@example.com'], `From: cron@nas.local\r\nSubject: =?UTF-8?B?${b64(XSS.encodedSubject)}?=`);
    const m3 = await call('POST', '/api/v1/messages', { json: { from: XSS.apiFrom, to: XSS.apiTo, subject: 'api addresses', text: 'x' } });
    expect(m3.status).toBe(202);
    for (const tag of [{ from: '"<svg/onload=alert(3)>"@example.com' }, { to: '"<img/src=x/onerror=alert(4)>"@example.com' }]) {
      expect((await call('POST', '/api/v1/messages', { json: { from: 'cron@nas.local', to: 'ok@example.com', subject: 'tags', text: 'x', ...tag } })).status).toBe(400);
    }
    const m3id = m3.json.id!;
    // Outcomes: m1 sent to two and bounced for one; m2 deferred with the relay's reply; m3 tried.
    await until(async () => {
      const rows = await sql<{ id: string; state: string }>(db.url, `SELECT id, state FROM message`);
      return !rows.some((r) => r.id === m1) && rows.some((r) => r.id === m2 && r.state === 'deferred') && !rows.some((r) => r.id === m3id && r.state !== 'deferred');
    }, 'the outcomes of the hostile messages', 20_000);

    // A relay whose greeting is a script: its failure becomes an event message.
    expect((await call('PUT', '/api/v1/settings', { json: { relayPort: greeter.port } })).status).toBe(200);
    const m4 = await call('POST', '/api/v1/messages', { json: { to: 'ok@example.com', subject: 'to the evil greeter', text: 'x' } });
    expect(m4.status).toBe(202);
    await until(async () => (await sql(db.url, `SELECT id FROM event WHERE message LIKE $1`, [`%${XSS.event}%`])).length > 0, 'the relay failure event', 20_000);
    expect((await call('PUT', '/api/v1/settings', { json: { relayPort: sink.port } })).status).toBe(200);

    const paths = ['/', '/queue', '/mail-log', '/logs', `/messages/${m1}`, `/messages/${m2}`, `/messages/${m3id}`, `/messages/${m4.json.id}`, '/reports/today', '/settings', '/test-email'];
    const pages = new Map<string, string>();
    for (const p of paths) {
      const r = await page(web, p);
      expect(r.status, p).toBe(200);
      pages.set(p, r.text);
      // No tag from a payload, in any page.
      expect(r.text, p).not.toMatch(/<(script|img|svg|b)[\s/>][^<]*alert/i);
    }
    const shownOn: Record<string, string[]> = {};
    for (const [name, payload] of Object.entries(XSS)) {
      shownOn[name] = [];
      for (const [p, html] of pages) {
        expect(html, `${name} on ${p}`).not.toContain(payload);
        if (html.includes(escapeHbs(payload))) shownOn[name]!.push(p);
      }
    }
    // Every field was shown somewhere, escaped (so the check above means something).
    for (const [name, where] of Object.entries(shownOn)) expect(where.length, `${name} shown escaped on some page`).toBeGreaterThan(0);
    numbers.xssPayloads = Object.keys(XSS).length;
    numbers.xssShownOn = shownOn;
  });

  it('refuses state-changing posts without the CSRF token, with another session’s token, or with none at all (403), and changes nothing', async () => {
    const before = await settings();
    const other = await new WebSession(postroom).login();
    await page(web, '/settings');
    const attempts = [
      () => web.request('POST', '/settings', { form: { relayHost: 'csrf.example.com' } }),
      () => web.request('POST', '/settings', { form: { _csrf: other.csrf, relayHost: 'csrf.example.com' } }),
      () => web.request('POST', '/settings', { form: { _csrf: 'forged', relayHost: 'csrf.example.com' } }),
      () => web.request('POST', '/queue/flush', { form: {} }),
      () => web.request('POST', '/queue/delete', { form: { _csrf: other.csrf } }),
      () => web.request('POST', '/logout', { form: {} }),
      () => web.request('POST', '/test-email', { form: { to: 'x@example.com' }, headers: { 'x-csrf-token': 'forged' } }),
    ];
    for (const attempt of attempts) {
      const r = await attempt();
      seen.push({ where: 'csrf', text: r.text });
      expect(r.status).toBe(403);
    }
    expect(await settings()).toEqual(before);
    expect((await page(web, '/')).status).toBe(200); // still logged in: the forged logout did nothing
    expect((await sql(db.url, `SELECT id FROM message`)).length).toBeGreaterThan(0); // the forged delete did nothing
    numbers.csrfRefused = attempts.length;
  });

  it('gives a new session id at login: a planted (pre-login) session id stays logged out', async () => {
    const victim = new WebSession(postroom);
    await victim.get('/login');
    // No session exists before login (the login form's CSRF token is a cookie of its own), so
    // an attacker can only plant an id of his making.
    expect(victim.cookie).not.toMatch(/^postroom\.sid=/);
    const planted = 'postroom.sid=s%3Aplanted-by-the-attacker.c2lnbmF0dXJl';
    victim.cookie = `${victim.cookie}; ${planted}`;
    const ok = await victim.post('/login', { password: WEB_PASSWORD, next: '/' });
    expect(ok.status).toBe(303);
    expect(victim.cookie).toMatch(/^postroom\.sid=/);
    expect(victim.cookie).not.toBe(planted);
    const attacker = await fetch(`${postroom.baseUrl}/`, { headers: { cookie: planted }, redirect: 'manual' });
    expect(attacker.status).toBe(303);
    expect(attacker.headers.get('location')).toMatch(/^\/login/);
    expect((await victim.get('/')).status).toBe(200);
  });

  it('never shows the relay (SASL) password: not in responses, pages, the transcript, the process log, events or the database in clear', async () => {
    // Use it for real: the relay refuses it (535), as a delivery and as a test email. Another
    // port takes the password again: a stored one stays with the host it was saved for.
    expect((await call('PUT', '/api/v1/settings', { json: { relayPort: authSink.port, authEnabled: true, password: SASL } })).status).toBe(200);
    const m = await call('POST', '/api/v1/messages', { json: { to: 'ok@example.com', subject: 'with auth', text: 'x' } });
    expect(m.status).toBe(202);
    await until(async () => (await sql(db.url, `SELECT id FROM message WHERE id = $1 AND state = 'deferred'`, [m.json.id])).length === 1, 'the deferral on the auth failure', 20_000);
    const test = await call('POST', '/api/v1/settings/test', { json: { to: 'ok@example.com' } });
    expect(test.status).toBe(200);
    expect(test.json).toMatchObject({ ok: false, code: 'auth_error' });
    await page(web, '/test-email');
    const testPage = await web.post('/test-email', { to: 'ok@example.com' });
    seen.push({ where: 'POST /test-email', text: testPage.text });
    expect(testPage.status).toBe(200);
    expect(authSink.authAttempts.length).toBeGreaterThanOrEqual(3);
    expect(authSink.authAttempts.every((a) => a.user === SASL_USER && !a.ok)).toBe(true);
    for (const p of ['/settings', '/logs', '/mail-log', '/queue', `/messages/${m.json.id}`, '/']) await page(web, p);
    await call('GET', '/api/v1/settings');
    await call('GET', '/api/v1/events?limit=500');
    await call('GET', '/api/v1/mail-log?limit=500');
    await call('GET', '/api/v1/queue?limit=500');
    await call('GET', `/api/v1/queue/${m.json.id}`);
    expect((await call('PUT', '/api/v1/settings', { json: { relayPort: sink.port, authEnabled: false } })).status).toBe(200);

    const leaks = (text: string) => SECRET_FORMS.filter((s) => text.includes(s));
    const leaked = seen.filter((s) => leaks(s.text).length > 0).map((s) => s.where);
    expect(leaked).toEqual([]);
    expect(leaks(postroom.output)).toEqual([]);
    const dbText = JSON.stringify(await sql(db.url, `SELECT (SELECT json_agg(e) FROM event e) AS events, (SELECT json_agg(s) FROM settings s) AS settings, (SELECT json_agg(l) FROM mail_log l) AS log`));
    expect(leaks(dbText)).toEqual([]);
    numbers.responsesChecked = seen.length;
    numbers.processLogBytes = postroom.output.length;
  });

  it('throttles login guessing: 429 with Retry-After after 5 failures, even for the right password or a spoofed X-Forwarded-For', async () => {
    // (Last: it locks 127.0.0.1 out of the dashboard login for 15 minutes.)
    const guesser = new WebSession(postroom);
    await guesser.get('/login');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await guesser.post('/login', { password: `guess-${i}` })).status);
    expect(codes).toEqual([401, 401, 401, 401, 401]);
    const blocked = await guesser.post('/login', { password: WEB_PASSWORD });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    const spoofed = await guesser.request('POST', '/login', { form: { _csrf: guesser.csrf, password: WEB_PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(spoofed.status).toBe(429);
    const fresh = new WebSession(postroom);
    await fresh.get('/login');
    expect((await fresh.post('/login', { password: WEB_PASSWORD })).status).toBe(429);
    expect((await guesser.get('/')).status).toBe(303); // never logged in
    const failedEvents = await sql(db.url, `SELECT id FROM event WHERE message LIKE 'Failed dashboard login%'`);
    expect(failedEvents.length).toBeGreaterThanOrEqual(5);
    numbers.loginGuesses = 5;
    numbers.loginRefused429 = 3;
    report('hostile-http', numbers);
  });
});
