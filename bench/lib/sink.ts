import { ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { alive, sleep, until } from './util.js';

/**
 * Postfix's smtp-sink as the relay both systems deliver to. With -c it prints a running
 * "sess=… quit=… mesg=N" counter on every event; we read that stream as it comes, so the time a
 * count is reached is known to within the pipe's latency (the same for both systems).
 */
export class SmtpSink {
  private child?: ChildProcess;
  count = 0;
  private waiters: { n: number; resolve: (t: number) => void }[] = [];
  private tail = '';

  constructor(readonly port: number, readonly label: string) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<this> {
    const args = [...(process.getuid?.() === 0 ? ['-u', 'postfix'] : []), '-c', `127.0.0.1:${this.port}`, '256'];
    const child = spawn('/usr/sbin/smtp-sink', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      const text = this.tail + c.toString('latin1');
      const i = text.lastIndexOf('mesg=');
      if (i >= 0) {
        const m = /^mesg=(\d+)/.exec(text.slice(i));
        if (m && /\r/.test(text.slice(i))) {
          this.count = Number(m[1]);
          const now = performance.now();
          this.waiters = this.waiters.filter((w) => (w.n <= this.count ? (w.resolve(now), false) : true));
        }
      }
      this.tail = text.slice(-64);
    });
    // Listening when a TCP connection succeeds.
    const { connect } = await import('node:net');
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          if (child.exitCode !== null) return resolve(false);
          const s = connect(this.port, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        }),
      `smtp-sink on ${this.port} (${err.trim()})`,
      5_000,
      50,
    );
    // The probe connection itself counts a session, not a message; nothing to subtract.
    return this;
  }

  /** Resolves with performance.now() when the sink has counted n messages (bounded). */
  waitFor(n: number, timeoutMs: number): Promise<number> {
    if (this.count >= n) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const w = { n, resolve: (t: number) => (clearTimeout(timer), resolve(t)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.label}: sink counted ${this.count} of ${n} messages after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    if (alive(child.pid)) child.kill('SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
  }
}
