import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { ScriptOptions, ScriptRelay } from '../helpers/script-relay.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events, mailLog, queueEntry, submitSmtp, untilState } from './api.js';

interface TestResult {
  ok: boolean;
  code?: string;
  step: string;
  reply: string;
  elapsedMs: number;
  transcript: string[];
}

const NO_AUTH = 'the relay offers no AUTH on this connection: use STARTTLS or TLS';
const fqdnOrLiteral = /^(?:[a-z0-9-]+\.)+[a-z0-9-]+$|^\[(?:IPv6:)?[0-9a-f.:]+\]$/i;

/**
 * How Postroom speaks SMTP to a relay, as a mail administrator reads it in the relay's log:
 * QUIT on every connection, SIZE and BODY=8BITMIME, no mail without the configured login,
 * policy refusals deferred with an alarm, an EHLO name that is an FQDN or an address literal,
 * TLS diagnoses that name the reason.
 */
describe('the conversation with the relay (real app, loopback relays)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const relays: (ScriptRelay | SmtpSink)[] = [];

  const script = async (options: ScriptOptions = {}) => {
    const r = await new ScriptRelay(options).start();
    relays.push(r);
    return r;
  };
  const sink = async (options: ConstructorParameters<typeof SmtpSink>[0]) => {
    const s = await new SmtpSink(options).start();
    relays.push(s);
    return s;
  };
  const settings = async (values: Record<string, unknown>) => {
    const res = await postroom.api('PUT', '/api/v1/settings', values);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };
  const testEmail = async () => {
    const res = await postroom.api<TestResult>('POST', '/api/v1/settings/test', { to: 'someone@example.com' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
  });

  beforeEach(async () => {
    await settings({ hostname: '', authEnabled: false, password: null, security: 'none', tlsVerify: true, timeoutSeconds: 5, fromAddress: 'nas@example.com' });
  });

  afterAll(async () => {
    await postroom?.dispose();
    for (const r of relays) await r.stop();
    await db?.drop();
  });

  it('the test email QUITs, and with no hostname set the EHLO name is an FQDN or an address literal', async () => {
    const r = await script();
    await settings({ relayHost: '127.0.0.1', relayPort: r.port });
    const result = await testEmail();
    expect(result).toMatchObject({ ok: true, step: 'done' });
    expect(result.transcript).toContain('C: QUIT');
    expect(result.transcript).toContain('S: 221 2.0.0 Bye');
    await r.until(() => r.sessions.every((s) => s.closed), 'the connection to end');
    expect(r.sessions).toHaveLength(1);
    const commands = r.sessions[0]!.commands;
    expect(commands.at(-1)).toBe('QUIT');
    const ehlo = commands[0]!.split(' ')[1]!;
    expect(ehlo).toMatch(fqdnOrLiteral);
    expect(commands.find((c) => c.startsWith('MAIL FROM'))).toMatch(/^MAIL FROM:<nas@example\.com> BODY=8BITMIME SIZE=\d+$/);
    if (ehlo.startsWith('[')) expect(result.transcript.join('\n')).toContain('address literal');
  });

  it('AUTH configured but not offered: the test is an auth_error at auth, the message is deferred, no MAIL FROM is sent', async () => {
    const r = await script({ ehlo: ['PIPELINING', '8BITMIME'] });
    await settings({ relayHost: '127.0.0.1', relayPort: r.port, authEnabled: true, username: 'nas', password: 'Relay-Secret-1' });
    const result = await testEmail();
    expect(result).toMatchObject({ ok: false, code: 'auth_error', step: 'auth', reply: NO_AUTH });

    const id = await submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'ops@example.com', subject: 'auth not offered', text: 'x' });
    const deferred = await untilState(postroom, id, 'deferred');
    expect(deferred.lastError).toBe(NO_AUTH);
    await r.until(() => r.sessions.length >= 2 && r.sessions.every((s) => s.closed), 'the connections to end');
    expect(r.commands.filter((c) => c.startsWith('MAIL'))).toEqual([]);
    for (const s of r.sessions) expect(s.commands.at(-1)).toBe('QUIT');
    const errors = await events(postroom, 'source=delivery&level=error');
    expect(errors.find((e) => e.details.queueId === id)?.details).toMatchObject({ kind: 'auth', reply: NO_AUTH });
  });

  it('554 5.7.1 on every recipient defers with an alarm (event, dashboard banner); 550 5.1.1 bounces', async () => {
    const r = await script({
      rcpt: (a) => (a.startsWith('nobody@') ? `550 5.1.1 <${a}>: Recipient address rejected: User unknown` : `554 5.7.1 <${a}>: Relay access denied`),
    });
    await settings({ relayHost: '127.0.0.1', relayPort: r.port });
    const where = `127.0.0.1:${r.port}`;

    const id = await submitSmtp(postroom, { from: 'cron@nas.example.com', to: ['ops@example.com', 'dev@example.com'], subject: 'policy', text: 'x' });
    const deferred = await untilState(postroom, id, 'deferred');
    expect(deferred.lastError).toMatch(/^554 5\.7\.1 .*Relay access denied$/);
    expect((await mailLog(postroom, `queueId=${id}`)).some((e) => e.event === 'bounced')).toBe(false);
    const alarm = await postroom.until(async () => (await events(postroom, 'source=delivery&level=error')).find((e) => e.details.kind === 'policy' && e.details.relay === where), 'the alarm');
    expect(alarm.message).toContain(`Relay ${where} refused mail on policy grounds: 554 5.7.1`);
    const metrics = await fetch(`${postroom.baseUrl}/metrics`).then((res) => res.text());
    expect(metrics).toMatch(new RegExp(`postroom_relay_policy_refusals_total\\{relay="${where}"\\} [1-9]`));
    const web = await new WebSession(postroom).login();
    const home = await web.get('/');
    expect(home.text).toContain('A relay refuses mail on policy grounds');
    expect(home.text).toContain('Relay access denied');

    const unknown = await submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'nobody@example.com', subject: 'unknown', text: 'x' });
    await postroom.until(async () => (await mailLog(postroom, `queueId=${unknown}&event=bounced`)).length > 0, 'the bounce');
    expect(await queueEntry(postroom, unknown)).toBeUndefined();
  });

  it("tls_error replies carry the reason, and a hint when the port speaks the other kind of TLS", async () => {
    const starttls = await sink({ starttls: true });
    await settings({ relayHost: '127.0.0.1', relayPort: starttls.port, security: 'starttls', tlsVerify: true });
    const selfSigned = await testEmail();
    expect(selfSigned).toMatchObject({ ok: false, code: 'tls_error', step: 'starttls' });
    expect(selfSigned.reply).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
    expect(selfSigned.reply).not.toMatch(/^220/);

    await settings({ security: 'tls', tlsVerify: false });
    const wrongWay = await testEmail();
    expect(wrongWay).toMatchObject({ ok: false, code: 'tls_error' });
    expect(wrongWay.reply).toContain('this port speaks STARTTLS: choose STARTTLS');

    const implicit = await sink({ secure: true });
    await settings({ relayPort: implicit.port, security: 'starttls' });
    const waits = await testEmail();
    expect(waits).toMatchObject({ ok: false, code: 'tls_error', step: 'greeting' });
    expect(waits.reply).toContain('this port expects TLS at once: choose TLS');
    expect(waits.elapsedMs).toBeLessThan(5000);
  });

  it('at shutdown after a settings change, the replaced transport and the current one QUIT their connections', async () => {
    const r = await script();
    await settings({ relayHost: '127.0.0.1', relayPort: r.port });
    const first = await submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'ops@example.com', subject: 'before the change', text: 'x' });
    await postroom.until(async () => (await mailLog(postroom, `queueId=${first}&event=sent`)).length > 0, 'the first message');
    await settings({ timeoutSeconds: 6 });
    const second = await submitSmtp(postroom, { from: 'cron@nas.example.com', to: 'ops@example.com', subject: 'after the change', text: 'x' });
    await postroom.until(async () => (await mailLog(postroom, `queueId=${second}&event=sent`)).length > 0, 'the second message');
    expect(r.sessions.length).toBeGreaterThanOrEqual(2);
    expect(r.sessions.some((s) => s.closed)).toBe(false);

    await postroom.stop();
    await r.until(() => r.sessions.every((s) => s.closed), 'every connection to end');
    for (const s of r.sessions) expect(s.commands.at(-1), JSON.stringify(s.commands)).toBe('QUIT');
  });
});
