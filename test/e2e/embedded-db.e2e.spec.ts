import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnableBinaries } from '../../src/database/embedded-postgres.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { mailLog, queueEntry, submitSmtp, untilState } from './api.js';

/** pg_ctl refuses to run as root; Postroom runs the cluster as "postgres" then, and so do we. */
const asPostgres: { uid?: number; gid?: number } = {};
if (process.getuid?.() === 0) {
  asPostgres.uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  asPostgres.gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
}

/** The pg_ctl that Postroom itself uses (the embedded-postgres binaries, as that user can run them). */
const { pg_ctl: PG_CTL } = await runnableBinaries(asPostgres);

function pgCtl(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(PG_CTL, args, { ...asPostgres, encoding: 'utf8', timeout: 30_000, env: { ...process.env, LC_ALL: 'C' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Whether a process runs (a zombie waiting for its reaper does not count). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('embedded PostgreSQL (no DATABASE_URL): kill -9 of Node, recovery, clean stop', () => {
  let postroom: PostroomProcess;
  let pgdata = '';
  const pidFile = () => path.join(pgdata, 'postmaster.pid');
  const postmasterPid = () => Number(readFileSync(pidFile(), 'utf8').split('\n')[0]);

  beforeAll(async () => {
    postroom = new PostroomProcess();
    await postroom.start();
    pgdata = path.join(postroom.dataDir, 'pg');
  });

  afterAll(async () => {
    await postroom?.stop('SIGTERM');
    // Whatever happened above, leave no server running.
    if (pgdata && existsSync(pidFile())) pgCtl(['stop', '-w', '-m', 'immediate', '-D', pgdata]);
    await postroom?.dispose();
  });

  it('recovers by itself after kill -9, keeps the queue, and stops its PostgreSQL on SIGTERM', async () => {
    expect(existsSync(path.join(pgdata, 'PG_VERSION'))).toBe(true);
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: await freePort(), security: 'none' });
    expect(r.status).toBe(200);
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'kept across a crash', text: 'x' });
    const before = await untilState(postroom, id, 'deferred');

    const firstPostmaster = postmasterPid();
    expect(alive(firstPostmaster)).toBe(true);

    await postroom.stop('SIGKILL');
    // Node is gone; its PostgreSQL is not.
    expect(existsSync(pidFile())).toBe(true);
    expect(alive(firstPostmaster)).toBe(true);
    expect(pgCtl(['status', '-D', pgdata]).code).toBe(0);

    await postroom.start();
    expect(postroom.output).toMatch(/embedded PostgreSQL left running by an earlier process: stopping it/);
    // pg_ctl stop -w returns once the pid file is gone, a moment before the process exits.
    await postroom.until(async () => !alive(firstPostmaster), 'the stale postmaster to exit', 10_000);
    const secondPostmaster = postmasterPid();
    expect(secondPostmaster).not.toBe(firstPostmaster);
    expect(alive(secondPostmaster)).toBe(true);

    expect(await queueEntry(postroom, id)).toMatchObject({ id, state: 'deferred', to: ['ops@example.com'], attempts: before.attempts, lastError: before.lastError });
    expect((await mailLog(postroom, `queueId=${id}`)).map((e) => e.event).sort()).toEqual(['deferred', 'received']);

    await postroom.stop('SIGTERM');
    expect(postroom.child!.exitCode).toBe(0);
    expect(existsSync(pidFile())).toBe(false);
    await postroom.until(async () => !alive(secondPostmaster), 'the postmaster to exit', 10_000);
    const status = pgCtl(['status', '-D', pgdata]);
    expect(status.code).toBe(3);
    expect(status.out).toMatch(/no server running/);
  }, 90_000);

  it('makes the first cluster aside and renames it into place: a killed first start leaves pg.init (removed) or a pg without a cluster (moved aside), and the next start works', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'postroom-initdb-'));
    const fresh = new PostroomProcess({ dataDir });
    try {
      // What a first start killed during initdb leaves: the staging directory, or (an older Postroom) files in pg but no PG_VERSION.
      mkdirSync(path.join(dataDir, 'pg.init', 'base'), { recursive: true });
      mkdirSync(path.join(dataDir, 'pg', 'global'), { recursive: true });
      writeFileSync(path.join(dataDir, 'pg', 'global', 'pg_control'), 'half');
      await fresh.start();
      expect(fresh.output).toMatch(/DATA_DIR\/pg held files but no cluster \(an interrupted first start\): moved aside/);
      expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
      expect(existsSync(path.join(dataDir, 'pg.init'))).toBe(false);
      const aside = readdirSync(dataDir).filter((n) => n.startsWith('pg.incomplete-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(path.join(dataDir, aside[0]!, 'global', 'pg_control'), 'utf8')).toBe('half');
      expect((await fresh.api('GET', '/api/v1/settings')).status).toBe(200);
      await fresh.stop('SIGTERM');
      expect(fresh.child!.exitCode).toBe(0);
    } finally {
      if (existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))) pgCtl(['stop', '-w', '-m', 'immediate', '-D', path.join(dataDir, 'pg')]);
      await fresh.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
