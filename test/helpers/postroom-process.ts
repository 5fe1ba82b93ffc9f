import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The `postroom` command as the package's bin runs it: the CommonJS bundle of src/cli (rolldown.config.mjs). */
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'postroom.cjs');
export const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PostroomOptions {
  /** Omit to let Postroom start its embedded PostgreSQL under DATA_DIR. */
  databaseUrl?: string;
  dataDir?: string;
  env?: Record<string, string>;
}

/**
 * The real Postroom (compiled, `node dist/src/main.js`) as a child process with its own ports,
 * data directory and API token. Run `npm run build` first (npm test does).
 */
export class PostroomProcess {
  child?: ChildProcess;
  httpPort = 0;
  smtpPort = 0;
  readonly token = 'test-token-' + randomBytes(12).toString('hex');
  dataDir = '';
  output = '';
  private ownDataDir = false;

  constructor(private readonly options: PostroomOptions = {}) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(): Promise<this> {
    if (!this.dataDir) {
      this.dataDir = this.options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'postroom-e2e-')));
      this.ownDataDir = !this.options.dataDir;
    }
    if (!this.httpPort) this.httpPort = await freePort();
    if (!this.smtpPort) this.smtpPort = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      // Isolated from a configuration file on the machine (/etc/postroom/postroom.env).
      POSTROOM_CONFIG: '/dev/null',
      DATA_DIR: this.dataDir,
      HTTP_PORT: String(this.httpPort),
      SMTP_LISTEN_PORT: String(this.smtpPort),
      API_TOKEN: this.token,
      LOG_LEVEL: 'info',
      ...(this.options.databaseUrl ? { DATABASE_URL: this.options.databaseUrl } : {}),
      ...this.options.env,
    };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (c: Buffer) => (this.output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (this.output += c.toString()));
    await this.waitReady();
    return this;
  }

  private async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child?.exitCode !== null) throw new Error(`Postroom exited (${this.child?.exitCode}):\n${this.output}`);
      try {
        const res = await fetch(`${this.baseUrl}/readyz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Postroom not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * An API call on a connection of its own. While a test blocks its event loop (spawnSync of the
   * CLI), a kept-alive socket cannot notice the server closing it at its keep-alive timeout; a
   * request sent on it just then fails with "other side closed".
   */
  api<T = unknown>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }> {
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    return new Promise((resolve, reject) => {
      const req = request(this.baseUrl + urlPath, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Polls until check() returns a truthy value (bounded). */
  async until<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await check();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; Postroom's log ends:\n${this.output.slice(-4000)}`);
  }

  /** SIGTERM (graceful) or SIGKILL (crash); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the process and removes the data directory it made. */
  async dispose(): Promise<void> {
    await this.stop('SIGTERM');
    if (this.ownDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
