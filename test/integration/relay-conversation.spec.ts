import { afterEach, describe, expect, it } from 'vitest';
import type { MessageData } from '../../src/common/message-data.js';
import { outcomeOfError, outcomeOfResult } from '../../src/delivery/outcome.js';
import { NO_AUTH_OFFERED, sendOnce } from '../../src/delivery/smtp-session.js';
import { SmtpPool } from '../../src/delivery/smtp-pool.js';
import { SmtpThreadHost, ThreadedSmtpPool } from '../../src/delivery/smtp-thread.js';
import type { SentInfo, ThreadPoolOptions } from '../../src/delivery/smtp-thread.protocol.js';
import type { TransportError } from '../../src/delivery/transport.js';
import { ScriptOptions, ScriptRelay } from '../helpers/script-relay.js';

/** The delivery thread's compiled entry (npm test builds before it runs the tests). */
const COMPILED_THREAD = new URL('../../dist/src/delivery/smtp-thread.worker.js', import.meta.url);
const threads = new SmtpThreadHost({ script: COMPILED_THREAD });

interface Sender {
  send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SentInfo>;
  close(): void;
}

const implementations: [string, (o: ThreadPoolOptions) => Sender][] = [
  ['SmtpPool', (o) => new SmtpPool({ ...o, auth: o.login && 'pass' in o.login ? { user: o.login.user, credentials: { user: o.login.user, pass: o.login.pass } } : undefined })],
  ['ThreadedSmtpPool (on the delivery thread)', (o) => new ThreadedSmtpPool(threads, o)],
];

const envelope = { from: 'nas@appliance.example', to: ['ops@example.net'] };
const ascii = Buffer.from('From: nas@appliance.example\r\nTo: ops@example.net\r\nSubject: plain\r\n\r\nall ASCII\r\n');
const eightBit = Buffer.from('From: nas@appliance.example\r\nTo: ops@example.net\r\nSubject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nDisque déjà plein à 95 %\r\n');

const connection = (port: number) => ({ host: '127.0.0.1', port, ignoreTLS: true, name: 'nas.example', connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 4000, logger: false });
const mailFrom = (r: ScriptRelay) => r.commands.filter((c) => c.toUpperCase().startsWith('MAIL FROM'));

describe.each(implementations)('relay conversation: %s', (_name, create) => {
  const pools: Sender[] = [];
  const relays: ScriptRelay[] = [];
  const setup = async (script: ScriptOptions = {}, login?: { user: string; pass: string }) => {
    const r = await new ScriptRelay(script).start();
    relays.push(r);
    const pool = create({ connection: connection(r.port), login, maxConnections: 2, maxMessages: 100, idleMs: 10_000 });
    pools.push(pool);
    return { r, pool };
  };

  afterEach(async () => {
    for (const p of pools.splice(0)) p.close();
    await threads.end();
    for (const r of relays.splice(0)) await r.stop();
  });

  it('pooled connections end with QUIT when the pool closes', async () => {
    const { r, pool } = await setup();
    await Promise.all([pool.send(envelope, ascii), pool.send(envelope, ascii), pool.send(envelope, ascii)]);
    pool.close();
    await r.until(() => r.sessions.every((s) => s.closed), 'every connection to end');
    expect(r.sessions.length).toBeGreaterThan(0);
    for (const s of r.sessions) expect(s.commands.at(-1)).toBe('QUIT');
  });

  it('a failure after DATA applies to the accepted recipients only: each refused at RCPT keeps its own reply', async () => {
    const rcpt = (a: string) => (a.startsWith('c@') ? '550 5.1.1 <c@example.net>: user unknown' : a.startsWith('b@') ? '450 4.2.1 <b@example.net>: try later' : undefined);
    const to = ['a@example.net', 'b@example.net', 'c@example.net'];
    for (const [afterData, accepted] of [
      ['451 4.3.0 try later', 'deferred'],
      ['554 5.6.0 message refused', 'bounced'],
    ] as const) {
      const { pool } = await setup({ rcpt, afterData: () => afterData });
      const err = (await pool.send({ ...envelope, to }, ascii).catch((e: unknown) => e)) as TransportError;
      const outcome = outcomeOfError(err, to);
      expect(outcome.recipients.map((x) => [x.recipient, x.status, x.code]), afterData).toEqual([
        ['a@example.net', accepted, Number(afterData.slice(0, 3))],
        ['b@example.net', 'deferred', 450],
        ['c@example.net', 'bounced', 550],
      ]);
      expect(outcome.recipients[2]!.reply).toBe('550 5.1.1 <c@example.net>: user unknown');
    }
  });

  it('sends no UTF-8 address to a server without SMTPUTF8 (RFC 6531 §3.4): that recipient is refused with 5.6.7, the others go; with SMTPUTF8 all go', async () => {
    const to = ['a@example.net', 'jörg@example.org'];
    const { r, pool } = await setup();
    const info = await pool.send({ ...envelope, to }, ascii);
    const outcome = outcomeOfResult({ accepted: info.accepted.map(String), rejected: (info.rejectedErrors ?? []).map((e) => ({ recipient: e.recipient ?? '', code: e.responseCode ?? null, reply: e.response ?? e.message })), reply: info.response, relay: 'r' });
    expect(outcome.recipients.map((x) => [x.recipient, x.status, x.code])).toEqual([
      ['a@example.net', 'sent', 250],
      ['jörg@example.org', 'bounced', 553],
    ]);
    expect(outcome.recipients[1]!.reply).toBe('553 5.6.7 SMTPUTF8 is required, but was not offered by the server');
    expect(r.commands.filter((c) => c.startsWith('RCPT'))).toEqual(['RCPT TO:<a@example.net>']);
    const sender = (await pool.send({ from: 'müller@appliance.example', to: ['a@example.net'] }, ascii).catch((e: unknown) => e)) as TransportError;
    expect(outcomeOfError(sender, ['a@example.net']).recipients[0]).toMatchObject({ status: 'bounced', code: 553 });

    const utf8 = await setup({ ehlo: ['PIPELINING', '8BITMIME', 'SMTPUTF8'] });
    const both = await utf8.pool.send({ ...envelope, to }, ascii);
    expect(both.accepted.map(String).sort()).toEqual(to.sort());
    expect(mailFrom(utf8.r)[0]).toMatch(/ SMTPUTF8/);
  });

  it('declares SIZE= and BODY=8BITMIME on MAIL FROM when EHLO offers them', async () => {
    const { r, pool } = await setup({ ehlo: ['PIPELINING', 'SIZE 1000000', '8BITMIME'] });
    await pool.send(envelope, eightBit);
    expect(mailFrom(r)).toEqual([`MAIL FROM:<nas@appliance.example> BODY=8BITMIME SIZE=${eightBit.length}`]);
    expect(r.sessions[0]!.data[0]!.equals(eightBit)).toBe(true);
  });

  it('without 8BITMIME: no BODY=, and an 8-bit message goes as quoted-printable', async () => {
    const { r, pool } = await setup({ ehlo: ['PIPELINING', 'SIZE 1000000'] });
    await pool.send(envelope, eightBit);
    const [mail] = mailFrom(r);
    expect(mail).toMatch(/^MAIL FROM:<nas@appliance\.example> SIZE=\d+$/);
    const data = r.sessions[0]!.data[0]!;
    expect(data.every((b) => b < 0x80)).toBe(true);
    expect(data.toString()).toContain('Content-Transfer-Encoding: quoted-printable');
    expect(data.toString()).toContain('Disque d=C3=A9j=C3=A0 plein =C3=A0 95 %');
    expect(Number(/SIZE=(\d+)/.exec(mail!)![1])).toBe(data.length);
  });

  it('a relay whose SIZE is smaller than the message refuses it at MAIL FROM (552, bounced), before any DATA', async () => {
    const { r, pool } = await setup({ ehlo: ['PIPELINING', 'SIZE 50', '8BITMIME'] });
    const err = (await pool.send(envelope, ascii).then(() => undefined, (e: unknown) => e)) as TransportError;
    expect(err).toMatchObject({ responseCode: 552, command: 'MAIL FROM' });
    expect(err.response).toMatch(/^552 5\.3\.4 .*limit of 50 bytes/);
    expect(r.commands.some((c) => c === 'DATA')).toBe(false);
    const outcome = outcomeOfError(err, envelope.to);
    expect(outcome.recipients).toEqual([expect.objectContaining({ recipient: 'ops@example.net', status: 'bounced', code: 552 })]);
  });

  it('AUTH configured but not offered: fails as auth with the reason, never MAIL FROM unauthenticated, and QUITs', async () => {
    const { r, pool } = await setup({ ehlo: ['PIPELINING', '8BITMIME'] }, { user: 'nas', pass: 'secret' });
    const err = (await pool.send(envelope, ascii).then(() => undefined, (e: unknown) => e)) as TransportError;
    expect(err).toMatchObject({ code: 'ENOAUTH', response: NO_AUTH_OFFERED });
    await r.until(() => r.sessions.every((s) => s.closed), 'the connection to end');
    expect(mailFrom(r)).toEqual([]);
    for (const s of r.sessions) expect(s.commands.at(-1)).toBe('QUIT');
    const outcome = outcomeOfError(err, envelope.to);
    expect(outcome.failure).toEqual({ kind: 'auth', reply: NO_AUTH_OFFERED });
    expect(outcome.recipients[0]).toMatchObject({ status: 'deferred', reply: NO_AUTH_OFFERED });
  });
});

describe('one message on one connection (sendOnce: the test email, direct delivery)', () => {
  const relays: ScriptRelay[] = [];
  const relay = async (script: ScriptOptions = {}) => {
    const r = await new ScriptRelay(script).start();
    relays.push(r);
    return r;
  };
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
  });

  it('QUITs after a message that went through and after one that was refused', async () => {
    const r = await relay({ rcpt: (a) => (a.startsWith('nobody@') ? '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown' : undefined) });
    await sendOnce({ connection: connection(r.port), quitWaitMs: 1000 }, envelope, ascii);
    const refused = (await sendOnce({ connection: connection(r.port), quitWaitMs: 1000 }, { ...envelope, to: ['nobody@example.net'] }, ascii).catch((e: unknown) => e)) as TransportError;
    expect(refused.code).toBe('EENVELOPE');
    await r.until(() => r.sessions.length === 2 && r.sessions.every((s) => s.closed), 'both connections to end');
    for (const s of r.sessions) expect(s.commands.at(-1)).toBe('QUIT');
    expect(mailFrom(r)[0]).toBe(`MAIL FROM:<nas@appliance.example> BODY=8BITMIME SIZE=${ascii.length}`);
  });

  it('554 5.7.1 on every recipient is deferred with a policy alarm; 550 5.1.1 bounces', async () => {
    const r = await relay({
      rcpt: (a) => (a.startsWith('nobody@') ? '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown' : `554 5.7.1 <${a}>: Relay access denied`),
    });
    const policy = (await sendOnce({ connection: connection(r.port) }, { ...envelope, to: ['a@example.net', 'b@example.net'] }, ascii).catch((e: unknown) => e)) as TransportError;
    const deferred = outcomeOfError(policy, ['a@example.net', 'b@example.net']);
    expect(deferred.recipients.map((x) => x.status)).toEqual(['deferred', 'deferred']);
    expect(deferred.recipients[0]!.reply).toBe('554 5.7.1 <a@example.net>: Relay access denied');
    expect(deferred.policy).toEqual({ reply: '554 5.7.1 <a@example.net>: Relay access denied' });

    const unknown = (await sendOnce({ connection: connection(r.port) }, { ...envelope, to: ['nobody@example.net'] }, ascii).catch((e: unknown) => e)) as TransportError;
    const bounced = outcomeOfError(unknown, ['nobody@example.net']);
    expect(bounced.recipients[0]).toMatchObject({ status: 'bounced', code: 550 });
    expect(bounced.policy).toBeUndefined();
  });
});
