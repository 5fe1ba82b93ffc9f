/**
 * The delivery thread: the relay connections (SmtpPool) and their SMTP conversations, off the
 * main thread, at a lower CPU priority than it. The main thread keeps intake, the queue and every
 * decision; this thread only talks SMTP. Messages: smtp-thread.protocol.ts.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { poolAuth } from './pool-login.js';
import { SmtpPool } from './smtp-pool.js';
import { FromThread, ThreadPoolOptions, ToThread, errorFields, errorOf, sentInfo } from './smtp-thread.protocol.js';

const port = parentPort!;
const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const pools = new Map<number, SmtpPool>();
const inFlight = new Set<number>();
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

/** An XOAUTH2 token, asked of the main thread (which holds the token source and its cache). */
function token(pool: number, renew: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = nextRequest++;
    tokens.set(request, (err, t) => (err ? reject(err) : resolve(t!)));
    post({ type: 'token', request, pool, renew });
  });
}

function open(pool: number, o: ThreadPoolOptions): void {
  pools.set(pool, new SmtpPool({ connection: o.connection, auth: poolAuth(o.login, (renew) => token(pool, renew)), maxConnections: o.maxConnections, maxMessages: o.maxMessages, idleMs: o.idleMs }));
}

function send(m: Extract<ToThread, { type: 'send' }>): void {
  const pool = pools.get(m.pool);
  if (!pool) return post({ type: 'failed', call: m.call, error: { message: 'connection pool closed', code: 'ECONNECTION' } });
  inFlight.add(m.call);
  pool
    .send(m.envelope, Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))
    .then(
      (info) => post({ type: 'sent', call: m.call, info: sentInfo(info as Parameters<typeof sentInfo>[0]) }),
      (err: unknown) => post({ type: 'failed', call: m.call, error: errorFields(err) }),
    )
    .finally(() => {
      inFlight.delete(m.call);
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
