import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerSession } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpPool } from '../../src/delivery/smtp-pool.js';
import { SmtpThreadHost, ThreadedSmtpPool } from '../../src/delivery/smtp-thread.js';
import { MessageData, MessageParts, STREAMED_BODY_BYTES } from '../../src/common/message-data.js';
import type { SentInfo, ThreadPoolOptions } from '../../src/delivery/smtp-thread.protocol.js';

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
  /** While set, the end of DATA waits for it. */
  hold?: Promise<void>;
  close(): Promise<void>;
}

/** A real smtp-server on loopback that counts connections, logins and messages. */
async function relay(options: { auth?: boolean; xoauth2Token?: string } = {}): Promise<Relay> {
  const perSession = new Map<string, number>();
  const r: Relay = { port: 0, connections: 0, open: 0, peakOpen: 0, logins: 0, quits: 0, messages: [], close: async () => undefined };
  const server = new SMTPServer({
    logger: false,
    disabledCommands: options.auth || options.xoauth2Token ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !(options.auth || options.xoauth2Token),
    allowInsecureAuth: true,
    ...(options.xoauth2Token ? { authMethods: ['XOAUTH2'] } : {}),
    onAuth: (auth, _session, cb) => {
      // A stale token is refused as Gmail does: 334 with an error document, then 535.
      if (options.xoauth2Token && auth.accessToken !== options.xoauth2Token) return cb(null, { data: { status: '401', schemes: 'bearer' } } as never);
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
      stream.on('end', async () => {
        await r.hold;
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

/** The delivery thread's compiled entry (npm test builds before it runs the tests). */
const COMPILED_THREAD = new URL('../../dist/src/delivery/smtp-thread.worker.js', import.meta.url);
const threads = new SmtpThreadHost({ script: COMPILED_THREAD });

interface Sender {
  send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SentInfo>;
  close(): void;
}

/** The pool in this thread, and the same pool on the delivery thread: the same behaviour is asked of both. */
const implementations: [string, (o: ThreadPoolOptions) => Sender][] = [
  ['SmtpPool', (o) => new SmtpPool({ ...o, auth: o.login && 'pass' in o.login ? { user: o.login.user, credentials: { user: o.login.user, pass: o.login.pass } } : undefined })],
  ['ThreadedSmtpPool (on the delivery thread)', (o) => new ThreadedSmtpPool(threads, o)],
];

describe.each(implementations)('%s', (_name, create) => {
  const pools: Sender[] = [];
  const relays: Relay[] = [];
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };
  const setup = async (o: Partial<Omit<ThreadPoolOptions, 'login'>> & { auth?: boolean } = {}) => {
    const r = await relay({ auth: o.auth });
    relays.push(r);
    const pool = create({
      connection: { host: '127.0.0.1', port: r.port, ignoreTLS: true, name: 'nas.example', connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 4000, logger: false },
      login: o.auth ? { user: 'nas', pass: 'secret' } : undefined,
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
    await threads.end();
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
    /** Exactly n bytes of lines no longer than 80 (a line over 998 octets would be re-encoded), ending in CRLF. */
    const filler = (n: number): Buffer => {
      let out = '';
      while (n - out.length > 82) out += 'x'.repeat(78) + '\r\n';
      return Buffer.from(out + 'x'.repeat(n - out.length - 2) + '\r\n');
    };
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
          parts.push(filler(pad), Buffer.from('.dot\r\n'));
          size += pad + 6;
        }
      }
    }
    parts.push(Buffer.from('..two\r\n.\r\nend\r\n'));
    const big = Buffer.concat(parts);
    await pool.send(envelope, big);
    expect(r.messages[0]!.data.equals(big)).toBe(true);
  });

  it('sends a message in parts as their bytes joined, dot-stuffing a line that starts where a part begins', async () => {
    const { r, pool } = await setup();
    const parts = [Buffer.from('Subject: parts\r\n\r\n'), Buffer.from('first line\r\n'), Buffer.from('.dot at a part start\r\nx'), Buffer.alloc(0), Buffer.from('\r\n..two\r\n')];
    await pool.send(envelope, new MessageParts(parts));
    expect(r.messages[0]!.data.equals(Buffer.concat(parts))).toBe(true);
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

describe(`${ThreadedSmtpPool.name}: the delivery thread`, () => {
  const pools: ThreadedSmtpPool[] = [];
  const relays: Relay[] = [];
  const envelope = { from: 'nas@appliance.example', to: ['ops@example.net'] };
  const connection = (port: number) => ({ host: '127.0.0.1', port, ignoreTLS: true, name: 'nas.example', connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 4000, logger: false });
  const setup = async (o: { xoauth2Token?: string; tokens?: { token(force?: boolean): Promise<string> } } = {}) => {
    const r = await relay({ xoauth2Token: o.xoauth2Token });
    relays.push(r);
    const login = o.tokens ? { user: 'nas@example.com', oauth2: true as const } : undefined;
    const pool = new ThreadedSmtpPool(threads, { connection: connection(r.port), login, maxConnections: 2, maxMessages: 100, idleMs: 10_000 }, o.tokens);
    pools.push(pool);
    return { r, pool };
  };

  afterEach(async () => {
    for (const p of pools.splice(0)) p.close();
    // Nothing is left running.
    await threads.end();
    for (const r of relays.splice(0)) await r.close();
  });

  it('runs at a lower CPU priority than the main thread (Linux: niceness 10 on the thread alone)', async () => {
    const { pool } = await setup();
    await pool.send(envelope, message(1));
    const { tid, nice } = await pool.currentThread!.ready;
    expect(nice).toBe(10);
    // The kernel's own record of that thread (field 19 of its stat line), and of this one.
    const niceOf = (task: number | 'self') => Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    expect(niceOf(tid!)).toBe(10);
    expect(niceOf(process.pid)).toBe(0);
  });

  it('sends a big message (past STREAMED_BODY_BYTES) from the main thread, on a connection of its own', async () => {
    const { r, pool } = await setup();
    await pool.send(envelope, message(1));
    const big = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.from(('.dotted line\r\n' + 'y'.repeat(998) + '\r\n').repeat(1_200))]);
    expect(big.length).toBeGreaterThan(STREAMED_BODY_BYTES);
    await pool.currentThread!.terminate();
    // The delivery thread is gone; the big message does not need it.
    await pool.send(envelope, big);
    expect(r.messages.map((m) => m.data.length)).toEqual([message(1).length, big.length]);
    expect(r.messages[1]!.data.equals(big)).toBe(true);
    expect(r.connections).toBe(2);
  });

  it('logs in with XOAUTH2 using tokens asked of the main thread, and a renewed one when the server refused the first', async () => {
    const asked: boolean[] = [];
    const tokens = { token: async (force?: boolean) => (asked.push(!!force), force ? 'fresh-token' : 'stale-token') };
    const { r, pool } = await setup({ xoauth2Token: 'fresh-token', tokens });
    const info = await pool.send(envelope, message(1));
    expect(info.accepted).toEqual(['ops@example.net']);
    expect(asked).toEqual([false, true]);
    expect(r.logins).toBe(1);
  });

  it('fails the login as an authentication error when no token can be had', async () => {
    const tokens = { token: async () => Promise.reject(Object.assign(new Error('token endpoint said invalid_grant'), { code: 'EOAUTH2' })) };
    const { r, pool } = await setup({ xoauth2Token: 'fresh-token', tokens });
    await expect(pool.send(envelope, message(1))).rejects.toMatchObject({ code: 'EAUTH', message: expect.stringContaining('invalid_grant') });
    expect(r.messages).toHaveLength(0);
  });

  it('when the thread dies, fails its sends as lost connections and sends the next message on a new thread', async () => {
    const { r, pool } = await setup();
    await pool.send(envelope, message(1));
    const first = pool.currentThread!;
    let release!: () => void;
    r.hold = new Promise((resolve) => (release = resolve));
    const inFlight = pool.send(envelope, message(2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await first.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'ECONNECTION', message: expect.stringContaining('delivery thread stopped') });
    release();
    r.hold = undefined;
    await pool.send(envelope, message(3));
    expect(pool.currentThread).not.toBe(first);
    expect(r.messages.map((m) => m.data.toString())).toContain(message(3).toString());
  });

  it('keeps the thread when a pool closes; at the end lets the message in flight finish, QUITs and exits', async () => {
    const { r, pool } = await setup();
    let release!: () => void;
    r.hold = new Promise((resolve) => (release = resolve));
    const inFlight = pool.send(envelope, message(1));
    const thread = pool.currentThread!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    pool.close();
    expect(thread.alive).toBe(true);
    const ended = threads.end();
    expect(thread.alive).toBe(false);
    release();
    expect((await inFlight).accepted).toEqual(['ops@example.net']);
    await ended;
    expect(r.quits).toBe(1);
    expect(r.messages).toHaveLength(1);
  });

  it('stops a thread that does not end within the grace time', async () => {
    const { r, pool } = await setup();
    r.hold = new Promise(() => undefined); // the relay never answers the end of DATA
    const inFlight = pool.send(envelope, message(1));
    const thread = pool.currentThread!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await threads.end(300);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(thread.alive).toBe(false);
    await expect(inFlight).rejects.toMatchObject({ code: 'ECONNECTION' });
  });
});

describe(`${SmtpThreadHost.name}: started at the first send, ended when idle`, () => {
  const relays: Relay[] = [];
  const hosts: SmtpThreadHost[] = [];
  const envelope = { from: 'nas@appliance.example', to: ['ops@example.net'] };
  const setup = async (idleMs: number) => {
    const r = await relay();
    relays.push(r);
    const host = new SmtpThreadHost({ script: COMPILED_THREAD, idleMs });
    hosts.push(host);
    // Connections close 100 ms after their last message; the thread may end after that and `idleMs`.
    const options = { connection: { host: '127.0.0.1', port: r.port, ignoreTLS: true, name: 'nas.example', connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 4000, logger: false }, maxConnections: 2, maxMessages: 100, idleMs: 100 };
    return { r, host, pool: new ThreadedSmtpPool(host, options) };
  };
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.end();
    for (const r of relays.splice(0)) await r.close();
  });

  it('starts no thread until the first send; ends it once idle (its connection QUIT before); starts a new one at the next send', async () => {
    const { r, host, pool } = await setup(1_000);
    expect(host.current).toBeUndefined();
    expect(pool.currentThread).toBeUndefined();
    await pool.send(envelope, message(1));
    const first = host.current!;
    expect(first.alive).toBe(true);
    expect(pool.currentThread).toBe(first);
    // The connection ends (QUIT) after its idle time; the thread outlives it, and a send within its idle time keeps it.
    await until(() => r.quits === 1, 'the idle connection to QUIT');
    expect(host.current).toBe(first);
    await pool.send(envelope, message(2));
    expect(host.current).toBe(first);
    expect(r.connections).toBe(2);

    await until(() => r.quits === 2, 'the idle connection to QUIT');
    expect(host.current).toBe(first);
    await first.exited;
    expect(host.current).toBeUndefined();

    await pool.send(envelope, message(3));
    const second = host.current!;
    expect(second).not.toBe(first);
    expect(second.alive).toBe(true);
    expect(pool.currentThread).toBe(second);
    expect(r.messages.map((m) => m.data.toString())).toEqual([1, 2, 3].map((n) => message(n).toString()));
    pool.close();
  });

  it('does not end the thread while a send is in flight, however long it takes', async () => {
    const { r, host, pool } = await setup(100);
    let release!: () => void;
    r.hold = new Promise((resolve) => (release = resolve));
    const inFlight = pool.send(envelope, message(1));
    const thread = host.current!;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(thread.alive).toBe(true);
    release();
    expect((await inFlight).accepted).toEqual(['ops@example.net']);
    await thread.exited;
    expect(host.current).toBeUndefined();
    expect(r.quits).toBe(1);
    pool.close();
  });
});
