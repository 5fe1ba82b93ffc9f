import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { alive, procStatusBytes, sleep, uniquePort } from './util.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
export const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

export interface PostroomOptions {
  label: string;
  /** Omit for the default deployment: the embedded PostgreSQL under DATA_DIR. */
  databaseUrl?: string;
  /** Extra node flags (--cpu-prof …). */
  nodeArgs?: string[];
  env?: Record<string, string>;
}

/**
 * The compiled Postroom (`node dist/src/main.js`) as a child process with its own ports, data
 * directory and API token. Its log (LOG_LEVEL info, the default) goes to DATA_DIR/postroom.log,
 * written by the child itself, so the harness does not spend CPU reading it.
 */
export class Postroom {
  child?: ChildProcess;
  httpPort = 0;
  smtpPort = 0;
  pgPort = 0;
  dataDir = '';
  readonly token = 'bench-token-' + randomBytes(12).toString('hex');

  constructor(readonly options: PostroomOptions) {}

  get label(): string {
    return this.options.label;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get logFile(): string {
    return path.join(this.dataDir, 'postroom.log');
  }

  async start(): Promise<this> {
    this.dataDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-bench-'));
    this.httpPort = await uniquePort();
    this.smtpPort = await uniquePort();
    this.pgPort = await uniquePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TZ: process.env.TZ ?? 'UTC',
      POSTROOM_CONFIG: '/dev/null',
      // As npm start, the systemd unit and the Docker image run it.
      MALLOC_ARENA_MAX: '2',
      DATA_DIR: this.dataDir,
      HTTP_PORT: String(this.httpPort),
      SMTP_LISTEN_PORT: String(this.smtpPort),
      EMBEDDED_PG_PORT: String(this.pgPort),
      API_TOKEN: this.token,
      ...(this.options.databaseUrl ? { DATABASE_URL: this.options.databaseUrl } : {}),
      ...this.options.env,
    };
    const fd = openSync(this.logFile, 'a');
    try {
      this.child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), MAIN], { env, cwd: ROOT, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.label} exited (${this.child.exitCode}):\n${await this.logTail()}`);
      const ok = await fetch(`${this.baseUrl}/readyz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${this.label} not ready after 60 s:\n${await this.logTail()}`);
      await sleep(100);
    }
    return this;
  }

  async logTail(chars = 3000): Promise<string> {
    return readFile(this.logFile, 'utf8').then((s) => s.slice(-chars), () => '(no log)');
  }

  async api<T = unknown>(method: string, urlPath: string, body?: unknown, timeoutMs = 120_000): Promise<{ status: number; body: T }> {
    const res = await fetch(this.baseUrl + urlPath, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  /**
   * Relay to 127.0.0.1:port, plain SMTP. Knobs that newer versions may add and that would change
   * what is measured (duplicate-storm suppression, per-sender rate limits) are turned off when the
   * settings API has them; everything else keeps its default (poolSize 10 unless BENCH_POOL_SIZE).
   */
  async setRelay(port: number, extra: Record<string, unknown> = {}): Promise<void> {
    const current = await this.api<Record<string, unknown>>('GET', '/api/v1/settings');
    if (current.status !== 200) throw new Error(`${this.label}: GET settings ${current.status}`);
    const body: Record<string, unknown> = { relayHost: '127.0.0.1', relayPort: port, security: 'none', tlsVerify: false, authEnabled: false, ...extra };
    const off: Record<string, number> = { stormMaxDuplicates: 0, senderRateLimitPerMinute: 0 };
    for (const [k, v] of Object.entries(off)) if (current.body && k in current.body) body[k] = v;
    if (process.env.BENCH_POOL_SIZE) body.poolSize = Number(process.env.BENCH_POOL_SIZE);
    const res = await this.api('PUT', '/api/v1/settings', body);
    if (res.status !== 200) throw new Error(`${this.label}: PUT settings ${res.status}: ${JSON.stringify(res.body)}`);
  }

  async queueCounts(): Promise<Record<string, number>> {
    const res = await this.api<Record<string, number>>('GET', '/api/v1/queue/counts');
    return res.body;
  }

  /** The embedded database's URL (postgres://postroom:…@127.0.0.1:port/postroom), or DATABASE_URL. */
  async databaseUrl(): Promise<string> {
    if (this.options.databaseUrl) return this.options.databaseUrl;
    const password = (await readFile(path.join(this.dataDir, 'pg.password'), 'utf8')).trim();
    return `postgres://postroom:${encodeURIComponent(password)}@127.0.0.1:${this.pgPort}/postroom`;
  }

  /** Processes whose CPU time is Postroom's: node, and the embedded PostgreSQL's postmaster (with its backends). */
  async cpuRoots(): Promise<number[]> {
    const pm = Number((await readFile(path.join(this.dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    return [this.pid, ...(this.options.databaseUrl || !(pm > 0) ? [] : [pm])];
  }

  peakRss(): Promise<number> {
    return procStatusBytes(this.pid, 'VmHWM');
  }

  /** Resets the process's peak RSS (VmHWM) to its current RSS (Linux: clear_refs 5). */
  resetPeakRss(): Promise<void> {
    return writeFile(`/proc/${this.pid}/clear_refs`, '5');
  }

  rss(): Promise<number> {
    return procStatusBytes(this.pid, 'VmRSS');
  }

  /** SIGTERM (graceful shutdown, which also stops the embedded database); SIGKILL after 40 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    // A Postroom that had to be killed leaves its embedded PostgreSQL running: stop that too.
    const pid = Number((await readFile(path.join(this.dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    }
    if (this.dataDir && !process.env.BENCH_KEEP) await rm(this.dataDir, { recursive: true, force: true });
  }
}
