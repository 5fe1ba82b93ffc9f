import type { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerSession } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpPool, SmtpPoolOptions } from '../../src/delivery/smtp-pool.js';

interface Relay {
  port: number;
  connections: number;
  open: number;
  peakOpen: number;
  logins: number;
  quits: number;
  messages: { from: string; to: string[]; data: Buffer; session: string }[];
  /** Answer MAIL FROM of the session's n-th message (1-based) with this error. */
  failMail?: (session: SMTPServerSession, nth: number) => { code: number; message: string } | undefined;
  close(): Promise<void>;
}

/** A real smtp-server on loopback that counts connections, logins and messages. */
async function relay(options: { auth?: boolean } = {}): Promise<Relay> {
  const perSession = new Map<string, number>();
  const r: Relay = { port: 0, connections: 0, open: 0, peakOpen: 0, logins: 0, quits: 0, messages: [], close: async () => undefined };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    onAuth: (auth, _session, cb) => {
      r.logins++;
      cb(null, { user: auth.username });
    },
    onConnect: (_session, cb) => {
      r.connections++;
      r.open++;
      r.peakOpen = Math.max(r.peakOpen, r.open);
      cb();
    },
    onClose: () => {
      r.open--;
    },
    onMailFrom: (_address, session, cb) => {
      const nth = (perSession.get(session.id) ?? 0) + 1;
      perSession.set(session.id, nth);
      const fail = r.failMail?.(session, nth);
      cb(fail ? Object.assign(new Error(fail.message), { responseCode: fail.code }) : undefined);
    },
    onRcptTo: (address, _session, cb) => cb(address.address.startsWith('nobody@') ? Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }) : undefined),
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        r.messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((t) => t.address), data: Buffer.concat(chunks), session: session.id });
        cb(null, 'Ok: sunk');
      });
    },
  });
  server.on('error', () => undefined);
  // smtp-server has no hook for QUIT: count them from the raw commands.
  server.server.on('connection', (socket) => socket.on('data', (b: Buffer) => (r.quits += (b.toString('latin1').match(/^QUIT\r\n/gm) ?? []).length)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.server.address() as AddressInfo).port;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

const message = (n: number) => Buffer.from(`From: nas@appliance.example\r\nTo: ops@example.net\r\nSubject: pool ${n}\r\n\r\nline one\r\n.a line that starts with a dot\r\n..two dots\r\nlast line ${n}\r\n`);

describe(SmtpPool.name, () => {
  const pools: SmtpPool[] = [];
  const relays: Relay[] = [];
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };
  const setup = async (o: Partial<Omit<SmtpPoolOptions, 'auth'>> & { auth?: boolean } = {}) => {
    const r = await relay({ auth: o.auth });
    relays.push(r);
    const pool = new SmtpPool({
      connection: { host: '127.0.0.1', port: r.port, ignoreTLS: true, name: 'nas.example', connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 4000, logger: false },
      auth: o.auth ? { user: 'nas', credentials: { user: 'nas', pass: 'secret' } } : undefined,
      maxConnections: o.maxConnections ?? 3,
      maxMessages: o.maxMessages ?? 100,
      idleMs: o.idleMs ?? 10_000,
    });
    pools.push(pool);
    return { r, pool };
  };
  const envelope = { from: 'nas@appliance.example', to: ['ops@example.net'] };

  afterEach(async () => {
    for (const p of pools.splice(0)) p.close();
    for (const r of relays.splice(0)) await r.close();
  });

  it('sends message after message over one connection, the bytes as they are (dot-stuffed on the wire only)', async () => {
    const { r, pool } = await setup();
    for (let n = 0; n < 5; n++) {
      const info = await pool.send(envelope, message(n));
      expect(info.accepted).toEqual(['ops@example.net']);
      expect(info.response).toMatch(/^250 .*Ok: sunk/);
    }
    expect(r.connections).toBe(1);
    expect(r.messages.map((m) => m.data.toString())).toEqual([0, 1, 2, 3, 4].map((n) => message(n).toString()));
  });

  it('sends a big message in slices, dot-stuffing lines that start where a slice begins', async () => {
    const { r, pool } = await setup();
    const SLICE = 64 * 1024;
    const head = Buffer.from('Subject: big\r\n\r\n');
    const parts: Buffer[] = [head];
    let size = head.length;
    // Lines whose dot lands on, and right after, each slice boundary.
    for (let boundary = SLICE; boundary < 5 * SLICE; boundary += SLICE) {
      for (const shift of [-2, -1, 0]) {
        const pad = boundary + shift - size;
        if (pad > 2) {
          parts.push(Buffer.from('x'.repeat(pad - 2) + '\r\n'), Buffer.from('.dot\r\n'));
          size += pad + 6;
        }
      }
    }
    parts.push(Buffer.from('..two\r\n.\r\nend\r\n'));
    const big = Buffer.concat(parts);
    await pool.send(envelope, big);
    expect(r.messages[0]!.data.equals(big)).toBe(true);
  });

  it('opens at most maxConnections at once, and all the messages arrive', async () => {
    const { r, pool } = await setup({ maxConnections: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, n) => pool.send(envelope, message(n))));
    expect(r.messages).toHaveLength(12);
    expect(r.peakOpen).toBeLessThanOrEqual(3);
    expect(r.connections).toBeLessThanOrEqual(3);
  });

  it('reports a recipient refused with 5xx and keeps the others of the message', async () => {
    const { r, pool } = await setup();
    const info = await pool.send({ from: envelope.from, to: ['ops@example.net', 'nobody@example.net'] }, message(1));
    expect(info.accepted).toEqual(['ops@example.net']);
    expect(info.rejectedErrors?.map((e) => e.responseCode)).toEqual([550]);
    expect(r.messages[0]!.to).toEqual(['ops@example.net']);
  });

  it('keeps the connection after a message refused as a whole (RSET), for the next message', async () => {
    const { r, pool } = await setup();
    await expect(pool.send({ from: envelope.from, to: ['nobody@example.net'] }, message(1))).rejects.toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    await pool.send(envelope, message(2));
    expect(r.connections).toBe(1);
    expect(r.messages).toHaveLength(1);
  });

  it('sends once more on a new connection when a reused one fails before the message (421), never twice', async () => {
    const { r, pool } = await setup();
    await pool.send(envelope, message(1));
    // The relay is going away on that connection: its second MAIL FROM gets 421.
    r.failMail = (_session, nth) => (nth === 2 ? { code: 421, message: '4.3.2 Service shutting down' } : undefined);
    await pool.send(envelope, message(2));
    expect(r.connections).toBe(2);
    expect(r.messages.map((m) => m.data.toString())).toEqual([message(1).toString(), message(2).toString()]);
  });

  it('does not try again on a new connection when the failure came on a fresh one', async () => {
    const { r, pool } = await setup();
    r.failMail = () => ({ code: 421, message: '4.3.2 Service shutting down' });
    await expect(pool.send(envelope, message(1))).rejects.toMatchObject({ responseCode: 421 });
    expect(r.connections).toBe(1);
  });

  it('logs in once per connection when the relay offers AUTH', async () => {
    const { r, pool } = await setup({ auth: true });
    for (let n = 0; n < 3; n++) await pool.send(envelope, message(n));
    expect(r.logins).toBe(1);
    expect(r.messages).toHaveLength(3);
  });

  it('starts a fresh connection after maxMessages', async () => {
    const { r, pool } = await setup({ maxMessages: 2 });
    for (let n = 0; n < 5; n++) await pool.send(envelope, message(n));
    expect(r.connections).toBe(3);
    await until(() => r.quits >= 2, 'the spent connections to QUIT');
  });

  it('closes a connection left unused for idleMs with QUIT', async () => {
    const { r, pool } = await setup({ idleMs: 100 });
    await pool.send(envelope, message(1));
    await until(() => r.open === 0, 'the idle connection to close');
    expect(r.quits).toBe(1);
    await pool.send(envelope, message(2));
    expect(r.connections).toBe(2);
  });

  it('fails sends with ECONNECTION once closed', async () => {
    const { pool } = await setup();
    pool.close();
    await expect(pool.send(envelope, message(1))).rejects.toMatchObject({ code: 'ECONNECTION' });
  });
});
