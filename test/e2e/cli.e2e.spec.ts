import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { LIST_LOADED_MODULES, loadedModules } from '../helpers/loaded-modules.js';
import { CLI, PostroomProcess, freePort } from '../helpers/postroom-process.js';

describe('postroom CLI (mailq, hold, release, flush, delete)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let queueId = '';

  const cli = (...args: string[]) => cliWith([], {}, ...args);
  const cliWith = (nodeOptions: string[], env: Record<string, string>, ...args: string[]) => {
    const r = spawnSync(process.execPath, [...nodeOptions, CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(postroom.httpPort), DATA_DIR: postroom.dataDir, ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    // A relay that refuses connections: the message stays deferred.
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: await freePort(), security: 'none' });
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const info = await client.sendMail({ from: 'backup@nas.local', to: 'ops@example.com', subject: 'Backup failed', text: 'job 7' });
    queueId = /queued as (\S+)/.exec(info.response)![1]!;
    await postroom.until(async () => (await postroom.api<{ state: string }>('GET', `/api/v1/queue/${queueId}`)).body.state === 'deferred', 'deferral');
  });

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('lists the queue like mailq, with the reason and the recipient, using the token in DATA_DIR', () => {
    const r = cli('mailq');
    expect(r.code).toBe(0);
    expect(r.out).toContain(queueId);
    expect(r.out).toContain('backup@nas.local');
    expect(r.out).toContain('ops@example.com');
    expect(r.out).toMatch(/ECONNREFUSED/);
    expect(r.out).toMatch(/-- \d+ Kbytes in 1 Request\./);
  });

  it('holds and releases a message, and says so', () => {
    expect(cli('hold', queueId)).toMatchObject({ code: 0, out: `${queueId}: put on hold\n` });
    expect(cli('mailq').out).toContain(`${queueId}!`);
    expect(cli('release', queueId)).toMatchObject({ code: 0, out: `${queueId}: released\n` });
  });

  it('flushes the queue and deletes it, printing the counts', async () => {
    await postroom.until(async () => (await postroom.api<{ state: string }>('GET', `/api/v1/queue/${queueId}`)).body.state === 'deferred', 'deferral again');
    expect(cli('flush')).toMatchObject({ code: 0, out: 'flushed 1 message(s)\n' });
    await postroom.until(async () => (await postroom.api<{ state: string }>('GET', `/api/v1/queue/${queueId}`)).body.state === 'deferred', 'deferral after flush');
    expect(cli('delete', 'ALL')).toMatchObject({ code: 0, out: 'deleted 1 message(s)\n' });
    expect(cli('mailq').out).toBe('Mail queue is empty\n');
  });

  it('exits 64 for an unknown message and for a bad command', () => {
    const unknown = cli('hold', '00000000000000000');
    expect(unknown.code).toBe(64);
    expect(unknown.err).toMatch(/No message 00000000000000000/);
    expect(cli('frobnicate').code).toBe(64);
  });

  // The queue commands start in about the time of node itself: they load the bundle (commander
  // inside it) and nothing else, not the service's modules (NestJS, TypeORM, zod…) nor
  // sendmail's chunk (report prints the text the server formats).
  const own = ['cli/postroom-config-file.cjs', 'cli/postroom.cjs'];
  it.each([
    [['mailq'], own],
    [['report', 'today'], own],
    [['--help'], own],
  ])('loads only its own bundle for %j', (args, sources) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postroom-cli-modules-'));
    try {
      const file = path.join(dir, 'modules');
      const r = cliWith(LIST_LOADED_MODULES, { LOADED_MODULES_FILE: file }, ...args);
      expect(r.code, r.err).toBe(0);
      expect(loadedModules(file)).toEqual({ packages: [], sources: [...sources].sort() });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 75 (try again later) when Postroom is unreachable', async () => {
    const r = spawnSync(process.execPath, [CLI, 'mailq'], {
      env: { PATH: process.env.PATH ?? '', HTTP_PORT: String(await freePort()), API_TOKEN: 'x'.repeat(20) },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(75);
    expect(r.stderr).toMatch(/cannot reach Postroom/);
  });
});
