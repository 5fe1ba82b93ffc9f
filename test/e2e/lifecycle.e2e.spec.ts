import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runnableBinaries } from '../../src/database/embedded-postgres.js';
import { ROOT, freePort } from '../helpers/postroom-process.js';
import { LIST_LOADED_MODULES } from '../helpers/loaded-modules.js';

/** The whole stop, signal to exit, must fit in this (an idle Postroom needs well under a second). */
const STOP_BUDGET_MS = 10_000;

/** pg_ctl refuses to run as root: Postroom runs the cluster as "postgres" then, and so do we. */
const asPostgres: { uid?: number; gid?: number } = {};
if (process.getuid?.() === 0) {
  asPostgres.uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  asPostgres.gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
}
const { pg_ctl: PG_CTL } = await runnableBinaries(asPostgres);

/** A process's state, parent and process group (/proc/PID/stat), or undefined once it is gone. */
function procStat(pid: number): { state: string; ppid: number; pgid: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie waiting for its reaper does not count). */
const alive = (pid: number): boolean => {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
};

const livingPids = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter(alive);

const portFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output ends:\n${output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `npm start`, as a terminal or a service manager runs it: in a process group of its own (so
 * that a Ctrl-C can be sent to the whole group), with its own data directory and ports.
 */
class NpmStart {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  constructor(
    readonly dataDir: string,
    readonly httpPort: number,
    readonly smtpPort: number,
    extraEnv: Record<string, string> = {},
  ) {
    this.child = spawn('npm', ['start'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        npm_config_update_notifier: 'false',
        POSTROOM_CONFIG: '/dev/null',
        DATA_DIR: dataDir,
        HTTP_PORT: String(httpPort),
        SMTP_LISTEN_PORT: String(smtpPort),
        ...extraEnv,
      },
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async ready(): Promise<void> {
    await until(
      async () => {
        if (this.child.exitCode !== null) throw new Error(`npm start exited (${this.child.exitCode}):\n${this.output}`);
        return fetch(`http://127.0.0.1:${this.httpPort}/readyz`).then((r) => r.status === 200, () => false);
      },
      'readiness',
      60_000,
      () => this.output,
    );
  }

  /** Node running dist/src/main.js under npm (npm's child: the start script execs it). */
  nodePid(): number {
    const pid = livingPids().find((p) => procStat(p)?.pgid === this.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('dist/src/main.js'));
    if (!pid) throw new Error('no node process under npm');
    return pid;
  }

  /** The embedded cluster's postmaster and its children (backends, background processes). */
  postgresPids(): { postmaster: number; port: number; all: number[] } {
    const lines = readFileSync(path.join(this.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n');
    const postmaster = Number(lines[0]);
    const all = [postmaster, ...livingPids().filter((p) => procStat(p)?.ppid === postmaster)];
    return { postmaster, port: Number(lines[3]), all };
  }

  /** Last resort after a failure: nothing of this run may outlive the test (node may outlive npm). */
  kill(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // the whole group is gone already
    }
    const pgdata = path.join(this.dataDir, 'pg');
    if (existsSync(path.join(pgdata, 'postmaster.pid'))) {
      spawnSync(PG_CTL, ['stop', '-w', '-m', 'immediate', '-D', pgdata], { ...asPostgres, timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
    }
  }
}

/** A stack trace, or the session store's dump of a pg client, anywhere in the output. */
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$|PG Pool error|"level":(50|60)/m;

describe('start and stop like a service: npm start, signals, the embedded PostgreSQL', () => {
  let dataDir = '';
  let run: NpmStart | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-lifecycle-'));
  });

  afterEach(() => {
    run?.kill();
    run = undefined;
  });

  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const start = async (extraEnv?: Record<string, string>): Promise<NpmStart> => {
    run = new NpmStart(dataDir, await freePort(), await freePort(), extraEnv);
    await run.ready();
    return run;
  };

  /** Sends the signal, then checks that every process and port of the run is gone, exit 0, no stack trace. */
  async function stopsCleanly(r: NpmStart, send: () => void): Promise<void> {
    // A dashboard page: the session store's pool now holds a connection, which must close before the database stops.
    expect((await fetch(`http://127.0.0.1:${r.httpPort}/login`)).status).toBe(200);
    const nodePid = r.nodePid();
    const pg = r.postgresPids();
    expect(pg.all.length).toBeGreaterThan(1);
    expect(pg.all.every(alive)).toBe(true);

    const sentAt = Date.now();
    send();
    let budget: NodeJS.Timeout | undefined;
    const exit = await Promise.race([r.exited, new Promise<undefined>((resolve) => (budget = setTimeout(() => resolve(undefined), STOP_BUDGET_MS)))]);
    clearTimeout(budget);
    expect(exit, `still running ${STOP_BUDGET_MS} ms after the signal:\n${r.output.slice(-3000)}`).toBeDefined();
    expect(exit!.at - sentAt).toBeLessThan(STOP_BUDGET_MS);
    expect({ code: exit!.code, signal: exit!.signal }).toEqual({ code: 0, signal: null });

    // pg_ctl stop returns once the pid file is gone, a moment before the processes exit.
    await until(() => !alive(nodePid) && !pg.all.some(alive), 'node and every postgres process to exit', 2_000, () => r.output);
    expect(livingPids().filter((p) => procStat(p)?.pgid === r.pid)).toEqual([]);
    expect(existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    for (const port of [r.httpPort, r.smtpPort, pg.port]) expect(await portFree(port), `port ${port} still taken`).toBe(true);

    expect(r.output).toMatch(/"msg":"Postroom stopped"}\s*$/);
    expect(r.output).not.toMatch(STACK_TRACE);
  }

  it('SIGTERM to npm: npm passes it on, everything stops in order, exit 0; the first start prints the admin password last', async () => {
    const r = await start();
    const file = path.join(dataDir, 'initial-admin-password');
    await until(() => /log in as admin with the password {2}(\S+)/.test(r.output), 'the admin password notice', 5_000, () => r.output);
    const printed = /log in as admin with the password {2}(\S+)/.exec(r.output)![1]!;
    expect(readFileSync(file, 'utf8').trim()).toBe(printed);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // After the last log line of start-up, not among the route mappings.
    const notice = r.output.indexOf('log in as admin');
    expect(r.output.lastIndexOf('"msg":"Postroom ready"')).toBeLessThan(notice);
    expect(r.output.slice(notice)).not.toMatch(/Mapped \{/);

    await stopsCleanly(r, () => process.kill(r.pid, 'SIGTERM'));
  }, 90_000);

  it('SIGTERM to node (the PID a service manager running node directly holds): the same; a later start prints no password', async () => {
    // npm and node both write the modules they load here; npm loads none of those looked for below.
    const modules = path.join(dataDir, 'loaded-modules.txt');
    const r = await start({ NODE_OPTIONS: LIST_LOADED_MODULES.join(' '), LOADED_MODULES_FILE: modules });
    await stopsCleanly(r, () => process.kill(r.nodePid(), 'SIGTERM'));
    expect(r.output).not.toMatch(/log in as admin/);
    expect(existsSync(path.join(dataDir, 'initial-admin-password'))).toBe(true);
    // Only where it is (had the first start failed before printing it, this is how the operator finds it).
    expect(r.output).toMatch(/the admin password generated at the first start is in \S+initial-admin-password\n/);
    expect(r.output).not.toContain(readFileSync(path.join(dataDir, 'initial-admin-password'), 'utf8').trim());

    // What an idle restart did without: the password hash was stored already, no message was
    // written or copied in, the API document was not asked for.
    const loaded = readFileSync(modules, 'utf8');
    expect(loaded).toContain('/dist/src/main.js');
    for (const lazy of ['@node-rs/argon2', 'pg-copy-streams', 'nodemailer/dist/esm/mail-composer', 'nodemailer/dist/esm/mime-node', '@nestjs/swagger', 'mailparser']) expect(loaded, lazy).not.toContain(`/node_modules/${lazy}/`);
  }, 90_000);

  it('SIGHUP to node (the terminal it ran in went away): the same', async () => {
    const r = await start();
    await stopsCleanly(r, () => process.kill(r.nodePid(), 'SIGHUP'));
    expect(r.output).toMatch(/"signal":"SIGHUP","msg":"shutting down"/);
  }, 90_000);

  it('a second Postroom on the same DATA_DIR refuses to start (exit 2, one line) and leaves the first one and its database alone', async () => {
    const r = await start();
    const second = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', POSTROOM_CONFIG: '/dev/null', DATA_DIR: dataDir, HTTP_PORT: String(await freePort()), SMTP_LISTEN_PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`^postroom: cannot use DATA_DIR ${dataDir}: in use by another Postroom \\(pid ${r.nodePid()}\\)\n$`));
    expect(await fetch(`http://127.0.0.1:${r.httpPort}/readyz`).then((x) => x.json())).toMatchObject({ database: 'up' });
    await stopsCleanly(r, () => process.kill(r.pid, 'SIGTERM'));
    expect(existsSync(path.join(dataDir, 'postroom.pid'))).toBe(false);
  }, 90_000);

  it('a stale postmaster.pid whose pid now belongs to another process: that process is left alone, the file removed, the cluster started', async () => {
    const other = spawn('sleep', ['60'], { ...asPostgres, stdio: 'ignore' });
    try {
      const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
      writeFileSync(pidFile, `${other.pid}\n${path.join(dataDir, 'pg')}\n0\n5432\n/tmp\nlocalhost\n  0 0\nready   \n`);
      if (asPostgres.uid !== undefined) chownSync(pidFile, asPostgres.uid, asPostgres.gid!);
      const r = await start();
      expect(alive(other.pid!)).toBe(true);
      expect(r.output).toMatch(/stale postmaster\.pid names a process that is not this cluster's server: removing the file/);
      expect(r.postgresPids().postmaster).not.toBe(other.pid);
      await stopsCleanly(r, () => process.kill(r.pid, 'SIGTERM'));
      expect(alive(other.pid!)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  }, 90_000);

  it('Ctrl-C (SIGINT to the whole foreground process group): the same, the database untouched by the terminal', async () => {
    const r = await start();
    await stopsCleanly(r, () => process.kill(-r.pid, 'SIGINT'));
    expect(r.output).toMatch(/"signal":"SIGINT","msg":"shutting down"/);
  }, 90_000);
});
