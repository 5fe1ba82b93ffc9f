/**
 * The delivery thread: the relay connections (SmtpPool) and their SMTP conversations, off the
 * main thread, at a lower CPU priority than it. The main thread keeps intake, the queue and every
 * decision; this thread only talks SMTP. Messages: smtp-thread.protocol.ts.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { SMTPConnectionAuth } from 'nodemailer/lib/smtp-connection/index.js';
import XOAuth2 from 'nodemailer/lib/xoauth2/index.js';
import { MessageBytes, SmtpPool } from './smtp-pool.js';
import { FromThread, PoolLogin, ThreadPoolOptions, ToThread, errorFields, errorOf, sentInfo } from './smtp-thread.protocol.js';

const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const pools = new Map<number, SmtpPool>();
const inFlight = new Set<number>();
const slices = new Map<number, (data: Buffer) => void>();
const tokens = new Map<number, (err: Error | null, token?: string) => void>();
let nextRequest = 1;
let ending = false;

/** Lowers this thread's priority (Linux: setpriority on the thread's own id), so it yields the CPU to intake on a busy machine. */
function lowerPriority(nice: number): FromThread {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return { type: 'ready', tid, nice: getPriority(tid) };
  } catch {
    return { type: 'ready', tid: null, nice: null };
  }
}

function auth(pool: number, login: PoolLogin | undefined): SMTPConnectionAuth | undefined {
  if (!login) return undefined;
  if ('pass' in login) return { user: login.user, credentials: { user: login.user, pass: login.pass } };
  const provisionCallback = (_user: string, renew: boolean, done: (err: Error | null, token?: string) => void): void => {
    const request = nextRequest++;
    tokens.set(request, done);
    post({ type: 'token', request, pool, renew });
  };
  return { user: login.user, method: 'XOAUTH2', oauth2: new XOAuth2({ user: login.user, provisionCallback }) };
}

function open(pool: number, o: ThreadPoolOptions): void {
  pools.set(pool, new SmtpPool({ connection: o.connection, auth: auth(pool, o.login), maxConnections: o.maxConnections, maxMessages: o.maxMessages, idleMs: o.idleMs }));
}

/** The message: its first bytes as they came, the rest asked of the main thread a slice at a time. */
function bytes(call: number, size: number, head: Buffer): MessageBytes {
  return {
    length: size,
    subarray: (start, end) => {
      if (end <= head.length) return head.subarray(start, end);
      return new Promise<Buffer>((resolve) => {
        slices.set(call, resolve);
        post({ type: 'slice', call, start, end });
      });
    },
  };
}

function send(m: Extract<ToThread, { type: 'send' }>): void {
  const pool = pools.get(m.pool);
  if (!pool) return post({ type: 'failed', call: m.call, error: { message: 'connection pool closed', code: 'ECONNECTION' } });
  inFlight.add(m.call);
  const head = Buffer.from(m.head.buffer, m.head.byteOffset, m.head.byteLength);
  pool
    .send(m.envelope, bytes(m.call, m.size, head))
    .then(
      (info) => post({ type: 'sent', call: m.call, info: sentInfo(info as Parameters<typeof sentInfo>[0]) }),
      (err: unknown) => post({ type: 'failed', call: m.call, error: errorFields(err) }),
    )
    .finally(() => {
      inFlight.delete(m.call);
      slices.delete(m.call);
      if (ending && inFlight.size === 0) port.close();
    });
}

port.on('message', (m: ToThread) => {
  switch (m.type) {
    case 'open':
      return open(m.pool, m.options);
    case 'close':
      pools.get(m.pool)?.close();
      pools.delete(m.pool);
      return;
    case 'send':
      return send(m);
    case 'slice': {
      const resolve = slices.get(m.call);
      slices.delete(m.call);
      return resolve?.(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    }
    case 'token': {
      const done = tokens.get(m.request);
      tokens.delete(m.request);
      return done?.(m.error ? errorOf(m.error) : null, m.token);
    }
    case 'end':
      ending = true;
      for (const pool of pools.values()) pool.close();
      pools.clear();
      if (inFlight.size === 0) port.close();
  }
});

post(lowerPriority((workerData as { nice: number }).nice));
