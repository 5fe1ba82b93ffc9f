import { describe, expect, it } from 'vitest';
import { FailoverError, FailoverTransport, MemoryRelayHealth, failoverDecision } from '../../src/delivery/failover-transport.js';
import { outcomeOfError } from '../../src/delivery/outcome.js';
import { refusedRecipients } from '../../src/relays/relay-health.types.js';
import { MailTransport, SendResult, TransportError } from '../../src/delivery/transport.js';

function transportError(message: string, fields: Partial<TransportError> = {}): TransportError {
  return Object.assign(new Error(message), fields) as TransportError;
}

/** Errors shaped as nodemailer raises them (code, responseCode, response, command). */
const errors = {
  refused: () => transportError('connect ECONNREFUSED 127.0.0.1:2526', { code: 'ESOCKET', command: 'CONN' }),
  closed: () => transportError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' }),
  tls: () => transportError('Error initiating TLS - self-signed certificate', { code: 'ETLS', command: 'STARTTLS' }),
  timeout: () => transportError('Connection timeout', { code: 'ETIMEDOUT', command: 'CONN' }),
  dns: () => transportError('getaddrinfo ENOTFOUND relay.invalid', { code: 'EDNS', command: 'CONN' }),
  greeting421: () => transportError('Invalid greeting. response=421 Too busy', { code: 'EPROTOCOL', responseCode: 421, response: '421 4.3.2 Too busy, try later', command: 'CONN' }),
  greeting554: () => transportError('Invalid greeting. response=554 No service', { code: 'EPROTOCOL', responseCode: 554, response: '554 5.7.1 No SMTP service here', command: 'CONN' }),
  auth454: () => transportError('Invalid login: 454 Temporary authentication failure', { code: 'EAUTH', responseCode: 454, response: '454 4.7.0 Temporary authentication failure', command: 'AUTH PLAIN' }),
  auth535: () => transportError('Invalid login: 535 Authentication credentials invalid', { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication credentials invalid', command: 'AUTH PLAIN' }),
  noAuth: () => transportError('Missing credentials for "PLAIN"', { code: 'ENOAUTH', command: 'API' }),
  mail451: () => transportError('Mail command failed: 451 Local error', { code: 'EENVELOPE', responseCode: 451, response: '451 4.3.0 Local error in processing', command: 'MAIL FROM' }),
  mail553: () => transportError('Mail command failed: 553 Sender not allowed', { code: 'EENVELOPE', responseCode: 553, response: '553 5.7.1 Sender address not owned by this account', command: 'MAIL FROM' }),
  rcpt550: () =>
    transportError("Can't send mail - all recipients were rejected: 550 User unknown", {
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 5.1.1 User unknown',
      command: 'RCPT TO',
      rejectedErrors: [{ recipient: 'nobody@example.com', responseCode: 550, response: '550 5.1.1 User unknown', message: 'Recipient command failed' }],
    }),
  rcpt450: () =>
    transportError("Can't send mail - all recipients were rejected: 450 Try later", {
      code: 'EENVELOPE',
      responseCode: 450,
      response: '450 4.2.0 Try later',
      command: 'RCPT TO',
      rejectedErrors: [{ recipient: 'ops@example.com', responseCode: 450, response: '450 4.2.0 Try later', message: 'Recipient command failed' }],
    }),
  dataCommand554: () => transportError('Data command failed: 554 Transaction failed', { code: 'EENVELOPE', responseCode: 554, response: '554 5.0.0 Transaction failed', command: 'DATA' }),
  data552: () => transportError('Message failed: 552 Message too big', { code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message too big', command: 'DATA' }),
  data451: () => transportError('Message failed: 451 Queue full', { code: 'EMESSAGE', responseCode: 451, response: '451 4.3.1 Queue full', command: 'DATA' }),
  invalidSender: () => transportError('Invalid sender "a b"', { code: 'EENVELOPE', command: 'API' }),
};

describe('failoverDecision: which failures move on to the next relay', () => {
  it.each([
    ['connection refused', errors.refused],
    ['connection closed', errors.closed],
    ['a TLS failure', errors.tls],
    ['a timeout', errors.timeout],
    ['a DNS failure', errors.dns],
    ['a 421 greeting', errors.greeting421],
    ['a 554 greeting (no service on that relay)', errors.greeting554],
    ['AUTH 454', errors.auth454],
    ['AUTH 535 (that relay\'s credentials)', errors.auth535],
    ['missing credentials', errors.noAuth],
    ['MAIL 451', errors.mail451],
    ['MAIL 553 (that relay\'s sender policy)', errors.mail553],
    ['every recipient refused with 4xx', errors.rcpt450],
    ['DATA 451', errors.data451],
  ])('%s → next relay', (_what, make) => {
    expect(failoverDecision(make())).toBe('next');
  });

  it.each([
    ['RCPT 550 (the recipient)', errors.rcpt550],
    ['554 to the DATA command', errors.dataCommand554],
    ['552 after the message (the message)', errors.data552],
    ['an invalid address before any conversation', errors.invalidSender],
  ])('%s → final', (_what, make) => {
    expect(failoverDecision(make())).toBe('final');
  });

  it('treats a mix of 4xx and 5xx recipient refusals as final: the 5xx is about the message', () => {
    const err = errors.rcpt450();
    err.rejectedErrors!.push({ recipient: 'nobody@example.com', responseCode: 550, response: '550 User unknown', message: 'Recipient command failed' });
    expect(failoverDecision(err)).toBe('final');
  });
});

interface Fake extends MailTransport {
  calls: number;
}

/** A transport that answers each call with the next behaviour (the last one repeats). */
function fake(description: string, ...behaviours: (() => SendResult | TransportError)[]): Fake {
  const t: Fake = {
    description,
    calls: 0,
    async send() {
      const b = behaviours[Math.min(t.calls, behaviours.length - 1)]!;
      t.calls++;
      const out = b();
      if (out instanceof Error) throw Object.assign(out, { relay: description });
      return out;
    },
    close() {},
  };
  return t;
}

const ok = (relay: string) => (): SendResult => ({ accepted: ['ops@example.com'], rejected: [], reply: '250 2.0.0 Ok: queued', relay });
const envelope = { from: 'nas@example.com', to: ['ops@example.com'] };
const raw = Buffer.from('Subject: x\r\n\r\nbody\r\n');

describe('FailoverTransport', () => {
  it('hands the message to the next relay when the first is down, and records both in the health', async () => {
    const health = new MemoryRelayHealth();
    const a = fake('a:25', errors.refused);
    const b = fake('b:25', ok('b:25'));
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }], { health });
    const result = await t.send(envelope, raw);
    expect(result.relay).toBe('b:25');
    expect([a.calls, b.calls]).toEqual([1, 1]);
    expect(health.events).toEqual([
      { key: 'primary', relay: 'a:25', ok: false, kind: 'connection', reason: 'connect ECONNREFUSED 127.0.0.1:2526' },
      { key: '1', relay: 'b:25', ok: true, latencyMs: expect.any(Number) },
    ]);
    expect(t.description).toBe('a:25 → b:25');
  });

  it.each([
    ['greeting 421', errors.greeting421],
    ['AUTH 454', errors.auth454],
    ['AUTH 535', errors.auth535],
    ['MAIL 451', errors.mail451],
    ['a TLS failure', errors.tls],
    ['a timeout', errors.timeout],
  ])('moves on after %s', async (_what, make) => {
    const a = fake('a:25', make);
    const b = fake('b:25', ok('b:25'));
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }]);
    expect((await t.send(envelope, raw)).relay).toBe('b:25');
  });

  it('stops at a 5xx on a recipient or on DATA: the error stands unchanged, the next relay is not asked, the relay counts as working', async () => {
    for (const make of [errors.rcpt550, errors.data552, errors.dataCommand554]) {
      const health = new MemoryRelayHealth();
      const err = make();
      const a = fake('a:25', () => err);
      const b = fake('b:25', ok('b:25'));
      const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }], { health });
      await expect(t.send(envelope, raw)).rejects.toBe(err);
      expect(b.calls).toBe(0);
      expect(health.events).toEqual([{ key: 'primary', relay: 'a:25', ok: true, latencyMs: expect.any(Number) }]);
      expect(outcomeOfError(err, ['nobody@example.com']).recipients[0]!.status).toBe('bounced');
    }
  });

  it('does not fail over when the relay took the message but refused some recipients', async () => {
    const partial = (): SendResult => ({ accepted: ['ops@example.com'], rejected: [{ recipient: 'busy@example.com', code: 451, reply: '451 busy' }], reply: '250 ok', relay: 'a:25' });
    const a = fake('a:25', partial);
    const b = fake('b:25', ok('b:25'));
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }]);
    expect(await t.send(envelope, raw)).toEqual(partial());
    expect(b.calls).toBe(0);
  });

  it('with a single relay passes its error on unchanged', async () => {
    const err = errors.refused();
    const t = new FailoverTransport([{ key: 'primary', transport: fake('a:25', () => err) }]);
    await expect(t.send(envelope, raw)).rejects.toBe(err);
  });

  it('when every relay fails, throws an error that defers, naming what each relay said', async () => {
    const t = new FailoverTransport([
      { key: 'primary', transport: fake('a:25', errors.refused) },
      { key: '1', transport: fake('b:587', errors.auth535) },
      { key: '2', transport: fake('c:465', errors.mail553) },
    ]);
    const err = (await t.send(envelope, raw).catch((e: unknown) => e)) as FailoverError;
    expect(err.message).toBe(
      'all 3 relays failed — a:25: connect ECONNREFUSED 127.0.0.1:2526; b:587: 535 5.7.8 Authentication credentials invalid; c:465: 553 5.7.1 Sender address not owned by this account',
    );
    expect(err).toMatchObject({ code: 'ESOCKET', relay: 'a:25' });
    expect(err.attempts!.map((a) => [a.relay, a.kind])).toEqual([
      ['a:25', 'connection'],
      ['b:587', 'auth'],
      ['c:465', 'rejected'],
    ]);
    const outcome = outcomeOfError(err, ['ops@example.com']);
    expect(outcome.recipients[0]).toMatchObject({ status: 'deferred', reply: err.message });
    expect(outcome.failure!.kind).toBe('connection');
  });

  it('when every relay refuses the sender on policy (5.7.1), the last refusal stands and defers (soft bounce)', async () => {
    const last = errors.mail553();
    const t = new FailoverTransport([
      { key: 'primary', transport: fake('a:25', errors.mail553) },
      { key: '1', transport: fake('b:25', () => last) },
    ]);
    await expect(t.send(envelope, raw)).rejects.toBe(last);
    expect(outcomeOfError(last, ['ops@example.com']).recipients[0]!.status).toBe('deferred');
  });

  it('tries a relay that just failed after the others, and first again once the back-off is over', async () => {
    let now = 1_000_000;
    const health = new MemoryRelayHealth(() => now);
    const a = fake('a:25', errors.refused, ok('a:25'));
    const b = fake('b:25', ok('b:25'));
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }], { health, retryAfterMs: 30_000, now: () => now });

    expect((await t.send(envelope, raw)).relay).toBe('b:25'); // a refused, b took it
    expect([a.calls, b.calls]).toEqual([1, 1]);

    now += 10_000; // within the back-off: b first, a not even asked
    expect(t.order().map((r) => r.key)).toEqual(['1', 'primary']);
    expect((await t.send(envelope, raw)).relay).toBe('b:25');
    expect([a.calls, b.calls]).toEqual([1, 2]);

    now += 25_000; // back-off over: a first again, and it works now
    expect(t.order().map((r) => r.key)).toEqual(['primary', '1']);
    expect((await t.send(envelope, raw)).relay).toBe('a:25');
    expect([a.calls, b.calls]).toEqual([2, 2]);
    expect(health.failingSince('primary', 'a:25')).toBeUndefined();
  });

  it('still tries a resting relay as the last resort when the others fail too', async () => {
    let now = 0;
    const health = new MemoryRelayHealth(() => now);
    const a = fake('a:25', errors.refused, ok('a:25'));
    const b = fake('b:25', errors.greeting421);
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }], { health, now: () => now });
    await expect(t.send(envelope, raw)).rejects.toThrow(/all 2 relays failed/);
    now += 1000; // both resting: priority order among them
    expect(t.order().map((r) => r.key)).toEqual(['primary', '1']);
    expect((await t.send(envelope, raw)).relay).toBe('a:25');
  });

  it('keeps delivering when the health observer throws', async () => {
    const broken = { succeeded: () => { throw new Error('x'); }, failed: () => { throw new Error('x'); }, failingSince: () => { throw new Error('x'); } };
    const t = new FailoverTransport([{ key: 'primary', transport: fake('a:25', errors.refused) }, { key: '1', transport: fake('b:25', ok('b:25')) }], { health: broken });
    expect((await t.send(envelope, raw)).relay).toBe('b:25');
  });

  it('moves on when every recipient is refused with 4xx, yet records the relay as answering, with its refusals, not as failing', async () => {
    const seen: unknown[][] = [];
    const health = new MemoryRelayHealth();
    const observer = {
      succeeded: (...args: [string, string, number, number?]) => (seen.push(['ok', args[0], args[3]]), health.succeeded(args[0], args[1], args[2])),
      failed: (key: string, relay: string, kind: string, reason: string) => (seen.push(['failed', key, kind]), health.failed(key, relay, kind, reason)),
      failingSince: (key: string, relay: string) => health.failingSince(key, relay),
    };
    const partial = (): SendResult => ({ accepted: ['ops@example.com'], rejected: [{ recipient: 'busy@example.com', code: 450, reply: '450 mailbox busy' }], reply: '250 ok', relay: 'a:25' });
    const a = fake('a:25', errors.rcpt450, partial, errors.refused);
    const b = fake('b:25', ok('b:25'));
    const t = new FailoverTransport([{ key: 'primary', transport: a }, { key: '1', transport: b }], { health: observer });
    expect((await t.send(envelope, raw)).relay).toBe('b:25'); // failover keeps its rule: a 4xx to every recipient moves on
    expect(t.order().map((r) => r.key)).toEqual(['primary', '1']); // not resting: the relay is not failing
    expect((await t.send(envelope, raw)).rejected).toHaveLength(1);
    await t.send(envelope, raw); // connection refused: that is the relay
    expect(seen).toEqual([
      ['ok', 'primary', 1],
      ['ok', '1', 0],
      ['ok', 'primary', 1],
      ['failed', 'primary', 'connection'],
      ['ok', '1', 0],
    ]);
    expect(t.order().map((r) => r.key)).toEqual(['1', 'primary']);
  });

  it('counts recipient refusals only where a recipient was refused: not a 421, not a connection lost during RCPT', () => {
    expect(refusedRecipients(errors.rcpt450())).toBe(1);
    expect(refusedRecipients(errors.rcpt550())).toBe(1);
    expect(refusedRecipients(transportError('Recipient command failed: 452 Too many', { code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO' }))).toBe(1);
    expect(refusedRecipients(transportError('421 shutting down', { code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO', rejectedErrors: [{ responseCode: 421, message: 'x' }] }))).toBe(0);
    expect(refusedRecipients(transportError('Connection closed', { code: 'ECONNECTION', command: 'RCPT TO' }))).toBe(0);
    for (const make of [errors.refused, errors.greeting421, errors.auth535, errors.mail451, errors.data451, errors.tls]) expect(refusedRecipients(make())).toBe(0);
  });

  it('closes every relay', () => {
    let closed = 0;
    const t = new FailoverTransport([1, 2].map((i) => ({ key: String(i), transport: { ...fake(`r${i}:25`, ok('x')), close: () => void closed++ } })));
    t.close();
    expect(closed).toBe(2);
  });
});
