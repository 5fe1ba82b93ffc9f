import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectTransport, MxResolver } from '../../src/delivery/direct-transport.js';
import { stubResolver } from '../helpers/stub-resolver.js';
import { outcomeOfResult } from '../../src/delivery/outcome.js';
import { freePort } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

const raw = (subject: string) => Buffer.from(`From: nas@appliance.example\r\nTo: someone@example.net\r\nSubject: ${subject}\r\n\r\nbody\r\n`);

/**
 * Direct delivery (no relay) in process: a stub resolver answers MX and address look-ups, and
 * loopback sinks stand in for the recipients' mail servers. All "MX hosts" share one port (the
 * transport's DIRECT port), on different loopback addresses: 127.0.0.1 has a sink, 127.0.0.2 has
 * nothing listening (a server that is down). No internet.
 */
describe('DirectTransport against a stub resolver and loopback MX sinks', () => {
  const sink = new SmtpSink(); // offers STARTTLS (self-signed): opportunistic TLS should use it
  const plainSink = new SmtpSink({ starttls: false, rcptReply: (a) => (a.startsWith('unknown@') ? { code: 550, message: '5.1.1 <unknown@plain.example>: User unknown' } : undefined) });

  beforeAll(async () => {
    await sink.start();
    // The plain sink must share the sink's port (one DIRECT port): it listens on 127.0.0.3.
    await plainSink.start();
  });
  afterAll(async () => {
    await Promise.all([sink.stop(), plainSink.stop()]);
  });

  const transport = (resolver: MxResolver, port = sink.port) => new DirectTransport(resolver, { heloName: 'appliance.example', timeoutSeconds: 5, port });

  it('tries MX hosts in preference order: the first is down, the second takes the message', async () => {
    const resolver = stubResolver(
      { 'example.net': [{ exchange: 'mx2.example.net', priority: 20 }, { exchange: 'mx1.example.net', priority: 10 }] },
      { 'mx1.example.net': ['127.0.0.2'], 'mx2.example.net': ['127.0.0.1'] },
    );
    const before = sink.messages.length;
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@example.net'] }, raw('preference'));
    expect(result.accepted).toEqual(['ops@example.net']);
    expect(result.rejected).toEqual([]);
    expect(result.relay).toBe(`mx2.example.net[127.0.0.1]:${sink.port}`);
    expect(resolver.asked).toEqual(['MX example.net', 'A mx1.example.net', 'A mx2.example.net']);
    expect(sink.messages.length).toBe(before + 1);
    const got = sink.messages.at(-1)!;
    expect(got).toMatchObject({ from: 'nas@appliance.example', to: ['ops@example.net'], clientHostname: 'appliance.example' });
    expect(got.data.toString()).toContain('Subject: preference');
  });

  it('falls back to the address record of the domain when it has no MX', async () => {
    const resolver = stubResolver({}, { 'nomx.example': ['127.0.0.1'] });
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@nomx.example'] }, raw('no mx'));
    expect(result.accepted).toEqual(['ops@nomx.example']);
    expect(result.relay).toBe(`nomx.example[127.0.0.1]:${sink.port}`);
    expect(resolver.asked).toEqual(['MX nomx.example', 'A nomx.example']);
  });

  it('delivers to an address literal (ops@[127.0.0.1]) at that address, with no DNS look-up', async () => {
    const resolver = stubResolver({}, {});
    const before = sink.messages.length;
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@[127.0.0.1]'] }, raw('literal'));
    expect(result.accepted).toEqual(['ops@[127.0.0.1]']);
    expect(result.rejected).toEqual([]);
    expect(result.relay).toBe(`127.0.0.1:${sink.port}`);
    expect(resolver.asked).toEqual([]);
    expect(sink.messages.slice(before).map((m) => m.to)).toEqual([['ops@[127.0.0.1]']]);
  });

  it('groups recipients by domain: one SMTP transaction per domain, each with its own recipients', async () => {
    const resolver = stubResolver(
      { 'a.example': [{ exchange: 'mx.a.example', priority: 0 }], 'b.example': [{ exchange: 'mx.b.example', priority: 0 }] },
      { 'mx.a.example': ['127.0.0.1'], 'mx.b.example': ['127.0.0.1'] },
    );
    const before = sink.messages.length;
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['one@a.example', 'x@b.example', 'two@A.example'] }, raw('grouped'));
    expect(result.accepted.sort()).toEqual(['one@a.example', 'two@A.example', 'x@b.example'].sort());
    const mine = sink.messages.slice(before);
    expect(mine).toHaveLength(2);
    // On the wire nodemailer lower-cases the domain; the result keeps the queue's spelling (above).
    expect(mine.map((m) => m.to.map((t) => t.toLowerCase()).sort()).sort()).toEqual([['one@a.example', 'two@a.example'], ['x@b.example']]);
    expect(resolver.asked.filter((q) => q.startsWith('MX')).sort()).toEqual(['MX a.example', 'MX b.example']);
    // Each recipient's line names its own domain's server and that server's reply.
    const outcome = outcomeOfResult(result);
    expect(Object.fromEntries(outcome.recipients.map((r) => [r.recipient, r.relay]))).toEqual({
      'one@a.example': `mx.a.example[127.0.0.1]:${sink.port}`,
      'two@A.example': `mx.a.example[127.0.0.1]:${sink.port}`,
      'x@b.example': `mx.b.example[127.0.0.1]:${sink.port}`,
    });
    expect(outcome.recipients.every((r) => /^250 /.test(r.reply))).toBe(true);
  });

  it('takes a 5xx greeting as "no SMTP service here" and tries the next MX, as Postfix does', async () => {
    // 127.0.0.4 on the transport's port greets with 554 and hangs up.
    const sockets = new Set<net.Socket>();
    const banner = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('554 5.3.2 mx1 not accepting mail\r\n');
    });
    await new Promise<void>((resolve) => banner.listen(sink.port, '127.0.0.4', () => resolve()));
    try {
      const resolver = stubResolver(
        { 'banner.example': [{ exchange: 'mx1.banner.example', priority: 10 }, { exchange: 'mx2.banner.example', priority: 20 }] },
        { 'mx1.banner.example': ['127.0.0.4'], 'mx2.banner.example': ['127.0.0.1'] },
      );
      const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@banner.example'] }, raw('banner'));
      expect(result.accepted).toEqual(['ops@banner.example']);
      expect(result.relay).toBe(`mx2.banner.example[127.0.0.1]:${sink.port}`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => banner.close(() => resolve()));
    }
  });

  it('uses STARTTLS when the server offers it (even with a self-signed certificate), and plain SMTP when it does not', async () => {
    const resolver = stubResolver({ 'tls.example': [{ exchange: 'mx.tls.example', priority: 0 }] }, { 'mx.tls.example': ['127.0.0.1'] });
    await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@tls.example'] }, raw('tls'));
    expect(sink.messages.at(-1)).toMatchObject({ to: ['ops@tls.example'], secure: true });

    const plain = stubResolver({ 'plain.example': [{ exchange: 'mx.plain.example', priority: 0 }] }, { 'mx.plain.example': ['127.0.0.1'] });
    const result = await transport(plain, plainSink.port).send({ from: 'nas@appliance.example', to: ['ops@plain.example'] }, raw('plain'));
    expect(result.accepted).toEqual(['ops@plain.example']);
    expect(plainSink.messages.at(-1)).toMatchObject({ to: ['ops@plain.example'], secure: false });
  });

  it('bounces one refused recipient (5xx to RCPT) and delivers the other in the same transaction', async () => {
    const resolver = stubResolver({ 'plain.example': [{ exchange: 'mx.plain.example', priority: 0 }] }, { 'mx.plain.example': ['127.0.0.1'] });
    const result = await transport(resolver, plainSink.port).send({ from: 'nas@appliance.example', to: ['ops@plain.example', 'unknown@plain.example'] }, raw('one refused'));
    const outcome = outcomeOfResult(result);
    expect(Object.fromEntries(outcome.recipients.map((r) => [r.recipient, r.status]))).toEqual({ 'ops@plain.example': 'sent', 'unknown@plain.example': 'bounced' });
    expect(outcome.recipients.find((r) => r.status === 'bounced')!.reply).toMatch(/^550 5\.1\.1/);
  });

  it('defers with a clear reason when the DNS lookup fails', async () => {
    const resolver = stubResolver({ 'broken.example': 'ESERVFAIL' }, {});
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['ops@broken.example'] }, raw('dns'));
    const outcome = outcomeOfResult(result);
    expect(outcome.recipients).toEqual([{ recipient: 'ops@broken.example', status: 'deferred', code: null, reply: 'DNS lookup of MX for broken.example failed: ESERVFAIL' }]);
  });

  it('defers with a clear reason naming each host when no MX answers on port 25', async () => {
    const closedPort = await freePort();
    const resolver = stubResolver(
      { 'down.example': [{ exchange: 'mx1.down.example', priority: 10 }, { exchange: 'mx2.down.example', priority: 20 }, { exchange: 'mx3.down.example', priority: 30 }] },
      { 'mx1.down.example': ['127.0.0.2'], 'mx2.down.example': ['127.0.0.1'], 'mx3.down.example': 'ENOTFOUND' },
    );
    const result = await transport(resolver, closedPort).send({ from: 'nas@appliance.example', to: ['ops@down.example', 'dev@down.example'] }, raw('down'));
    const outcome = outcomeOfResult(result);
    expect(outcome.recipients.map((r) => r.status)).toEqual(['deferred', 'deferred']);
    const reply = outcome.recipients[0]!.reply;
    expect(reply).toContain(`no mail server of down.example took the message on port ${closedPort}`);
    expect(reply).toContain(`mx1.down.example[127.0.0.2]: connect ECONNREFUSED 127.0.0.2:${closedPort}`);
    expect(reply).toContain(`mx2.down.example[127.0.0.1]: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    expect(reply).toContain('mx3.down.example: address lookup failed (ENOTFOUND)');
  });

  it('bounces at once for a domain that does not exist or publishes a null MX', async () => {
    const resolver = stubResolver({ 'gone.example': 'ENOTFOUND', 'nomail.example': [{ exchange: '', priority: 0 }] }, {});
    const result = await transport(resolver).send({ from: 'nas@appliance.example', to: ['a@gone.example', 'b@nomail.example'] }, raw('null'));
    const outcome = outcomeOfResult(result);
    expect(Object.fromEntries(outcome.recipients.map((r) => [r.recipient, [r.status, r.code]]))).toEqual({ 'a@gone.example': ['bounced', 550], 'b@nomail.example': ['bounced', 556] });
  });
});
