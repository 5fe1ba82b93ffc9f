import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { SmtpSink } from './sink.js';

export interface LoadCase {
  /** Message body size in bytes (smtp-source -l). */
  size: number;
  /** Concurrent SMTP sessions (smtp-source -s). */
  sessions: number;
  /** Messages in all (smtp-source -m). */
  count: number;
  /** true: -d, the sessions send message after message on one connection; false: a connection per message. */
  reuse: boolean;
}

export interface LoadResult {
  intakeMs: number;
  e2eMs: number;
  /** Messages per second acknowledged (250) by the listener: count / time until smtp-source exits. */
  intake: number;
  /** Messages per second end to end: count / time until the sink has counted them all. */
  e2e: number;
  /** CPU time of all the system's processes from the start of the run until its queue was empty, per message (ms). */
  cpuPerMessageMs?: number;
  error?: string;
}

/**
 * Warm-up (not recorded): Node's JIT needs thousands of messages through each path (one
 * session and many, both connection modes) before it settles; connection pools, caches and
 * Postfix's processes warm up too. The same load for every system. Measured from a cold
 * start, one session (runs of 1,000): 390, 450, 510, 560, 600, then ~600–640 a second; with
 * V8's optimising tiers off (--no-opt --no-maglev) a flat ~420: the climb is the JIT. After
 * the 20-session part alone the first one-session runs were still ~10 % below their plateau.
 */
export const WARM_UP: LoadCase[] = [
  { size: 1024, sessions: 20, count: 2000, reuse: true },
  { size: 1024, sessions: 20, count: 500, reuse: false },
  { size: 1024, sessions: 1, count: 4000, reuse: true },
  { size: 1024, sessions: 1, count: 1000, reuse: false },
  { size: 10240, sessions: 1, count: 500, reuse: true },
];

export function smtpSourceArgs(c: LoadCase, port: number): string[] {
  return [...(c.reuse ? ['-d'] : []), '-s', String(c.sessions), '-m', String(c.count), '-l', String(c.size), '-f', 'bench@example.com', '-t', 'rcpt@example.net', `127.0.0.1:${port}`];
}

/**
 * One run: smtp-source against the listener; intake ends when smtp-source exits (it waits for
 * every 250 and QUIT), end to end when the sink's counter has grown by `count`.
 */
export async function runLoad(listenPort: number, sink: SmtpSink, c: LoadCase, timeoutMs: number): Promise<LoadResult> {
  const target = sink.count + c.count;
  const t0 = performance.now();
  const child = spawn('/usr/sbin/smtp-source', smtpSourceArgs(c, listenPort), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const delivered = sink.waitFor(target, timeoutMs);
  delivered.catch(() => undefined);
  const code = await new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  clearTimeout(killer);
  const t1 = performance.now();
  if (code !== 0) {
    return { intakeMs: t1 - t0, e2eMs: NaN, intake: NaN, e2e: NaN, error: `smtp-source exited ${code}: ${stderr.trim().slice(0, 300)}` };
  }
  try {
    const t2 = await delivered;
    return { intakeMs: t1 - t0, e2eMs: t2 - t0, intake: (c.count * 1000) / (t1 - t0), e2e: (c.count * 1000) / (t2 - t0), ...(stderr.trim() ? { error: stderr.trim().slice(0, 300) } : {}) };
  } catch (err) {
    return { intakeMs: t1 - t0, e2eMs: NaN, intake: (c.count * 1000) / (t1 - t0), e2e: NaN, error: (err as Error).message };
  }
}
