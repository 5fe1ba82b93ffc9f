import { createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { EventEntry, events, mailLog, submitSmtp, untilState } from './api.js';

const PRIMARY_PASSWORD = 'Primary-Pw-' + randomBytes(6).toString('hex');
const BACKUP_PASSWORD = 'Backup-Pw-' + randomBytes(6).toString('hex');
const OAUTH_SECRET = 'Unused-Client-Secret-' + randomBytes(6).toString('hex');
const UNREADABLE = 'the stored password cannot be decrypted with this SECRET_KEY: enter it again';

interface Relay {
  id: string;
  relay: string;
  passwordSet: boolean;
  secretsUnreadable: string[];
}

/** Opens a "v1.<iv>.<tag>.<data>" value with a raw key (the documented format, not our code). */
function openWith(key: Buffer, sealed: string): string {
  const [, iv, tag, data] = sealed.split('.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data!, 'base64url')), decipher.final()]).toString('utf8');
}

async function sealedValues(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The primary relay's password (priority 0) and the backups'.
    const r = await client.query<{ v: string }>(`SELECT password_sealed AS v FROM relay WHERE password_sealed IS NOT NULL ORDER BY priority, id`);
    return r.rows.map((row) => row.v);
  } finally {
    await client.end();
  }
}

describe('SECRET_KEY changes: unreadable secrets skip only their relay', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let postroom: PostroomProcess;
  let backupId: string;
  const primary = new SmtpSink({ starttls: false });
  const backup = new SmtpSink({ starttls: false, auth: { user: 'backupuser', pass: BACKUP_PASSWORD } });

  const start = (secretKey: string) =>
    new PostroomProcess({ databaseUrl: db.url, dataDir, env: { SECRET_KEY: secretKey, ADMIN_PASSWORD: WEB_PASSWORD, RELAY_RETRY_SECONDS: '0' } }).start();
  const relays = async () => (await postroom.api<{ items: Relay[] }>('GET', '/api/v1/relays')).body.items;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-key-'));
    await Promise.all([primary.start(), backup.start()]);

    // Key A: a primary without SASL (its password and an OAuth secret stored, unused) and a backup with a password.
    postroom = await start(randomBytes(32).toString('hex'));
    const put = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: primary.port,
      security: 'none',
      username: 'relayuser',
      password: PRIMARY_PASSWORD,
      oauthClientSecret: OAUTH_SECRET,
      fromAddress: 'nas@example.com',
      timeoutSeconds: 5,
    });
    expect(put.status).toBe(200);
    const added = await postroom.api<Relay>('POST', '/api/v1/relays', { host: '127.0.0.1', port: backup.port, security: 'none', authEnabled: true, username: 'backupuser', password: BACKUP_PASSWORD });
    expect(added.status).toBe(201);
    backupId = added.body.id;
    await postroom.stop();

    // Key B: none of those secrets opens any more.
    postroom = await start(randomBytes(32).toString('hex'));
  });

  afterAll(async () => {
    await postroom?.stop();
    await Promise.all([primary.stop(), backup.stop()]);
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('names the unreadable secrets in one warning at start-up, never their values', async () => {
    const warnings = (await events(postroom, 'source=settings&level=warning')).filter((e) => /SECRET_KEY/.test(e.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/settings password/);
    expect(warnings[0]!.message).toMatch(/settings OAuth client secret/);
    expect(warnings[0]!.message).toMatch(new RegExp(`relay ${backupId} \\(127\\.0\\.0\\.1:${backup.port}\\) password`));
    const all = JSON.stringify(await events(postroom, '')) + postroom.output;
    for (const secret of [PRIMARY_PASSWORD, BACKUP_PASSWORD, OAUTH_SECRET]) expect(all).not.toContain(secret);
  });

  it('marks them in the API and on the settings page', async () => {
    const view = (await postroom.api<{ passwordSet: boolean; secretsUnreadable: string[] }>('GET', '/api/v1/settings')).body;
    expect(view).toMatchObject({ passwordSet: true, secretsUnreadable: ['password', 'oauthClientSecret'] });
    const [first, second] = await relays();
    expect(first).toMatchObject({ id: 'primary', secretsUnreadable: ['password', 'oauthClientSecret'] });
    expect(second).toMatchObject({ id: backupId, passwordSet: true, secretsUnreadable: ['password'] });

    const web = await new WebSession(postroom).login();
    const page = await web.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/id="f-password-state">unreadable: enter it again</);
    expect(page.text).toMatch(/id="f-oauthClientSecret-state">unreadable: enter it again</);
    expect(page.text).toMatch(/id="f-oauthRefreshToken-state">not set</);
  });

  it('delivers through the primary: an unreadable secret nobody uses harms nothing', async () => {
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'after the key change', text: 'hello' });
    await primary.waitFor(1);
    const sent = await postroom.until(async () => (await mailLog(postroom, `queueId=${id}&event=sent`))[0], 'the sent entry');
    expect(sent.relay).toBe(`127.0.0.1:${primary.port}`);

    const test = await postroom.api<{ ok: boolean }>('POST', '/api/v1/settings/test', { to: 'ops@example.com' });
    expect(test.status).toBe(200);
    expect(test.body.ok).toBe(true);
  });

  it('the test email that needs the unreadable password answers a diagnosis, not 500', async () => {
    const r = await postroom.api<{ ok: boolean; step: string; code: string; reply: string }>('POST', '/api/v1/settings/test', { to: 'ops@example.com', settings: { authEnabled: true } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ ok: false, step: 'auth', code: 'auth_error', reply: UNREADABLE });
  });

  it('skips only the relay whose password is unreadable, and uses it again once the password is given', { timeout: 90_000 }, async () => {
    await primary.stop();
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'primary down', text: 'hello' });
    const deferred = await untilState(postroom, id, 'deferred');
    expect(deferred.lastError).toContain(`127.0.0.1:${backup.port}: ${UNREADABLE}`);
    expect(deferred.lastError).toMatch(/ECONNREFUSED/);
    expect(backup.authAttempts).toEqual([]);
    const failing = await relays();
    expect(failing[1]!).toMatchObject({ health: expect.objectContaining({ status: 'failing', lastFailureKind: 'auth', lastFailureReason: UNREADABLE }) });

    const fixed = await postroom.api<Relay>('PUT', `/api/v1/relays/${backupId}`, { password: BACKUP_PASSWORD });
    expect(fixed.status).toBe(200);
    expect(fixed.body.secretsUnreadable).toEqual([]);
    expect((await postroom.api('POST', `/api/v1/queue/${id}/flush`)).status).toBeLessThan(300);
    await backup.waitFor(1);
    expect(backup.authAttempts).toEqual([{ user: 'backupuser', ok: true }]);
    await primary.start();
  });
});

describe('SECRET_KEY passphrases: scrypt, and secrets sealed under the old SHA-256 key are kept', () => {
  const PASSPHRASE = 'correct horse battery staple ' + randomBytes(4).toString('hex');
  /** The documented derivation (README, SECRET_KEY). */
  const scryptKey = scryptSync(PASSPHRASE, 'postroom SECRET_KEY v1', 32, { N: 16384, r: 8, p: 1 });
  const legacyKey = createHash('sha256').update(PASSPHRASE).digest();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let postroom: PostroomProcess | undefined;
  const relay = new SmtpSink({ starttls: false, auth: { user: 'relayuser', pass: PRIMARY_PASSWORD } });

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-key-'));
    await relay.start();
  });

  afterAll(async () => {
    await postroom?.stop();
    await relay.stop();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('re-seals what an older version sealed under SHA-256(passphrase), with one event, and delivers with it', { timeout: 90_000 }, async () => {
    // An older Postroom with this passphrase sealed under SHA-256(passphrase): the same key given as hex.
    postroom = await new PostroomProcess({ databaseUrl: db.url, dataDir, env: { SECRET_KEY: legacyKey.toString('hex') } }).start();
    const put = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: relay.port, security: 'none', authEnabled: true, username: 'relayuser', password: PRIMARY_PASSWORD, fromAddress: 'nas@example.com' });
    expect(put.status).toBe(200);
    expect((await postroom.api('POST', '/api/v1/relays', { host: '127.0.0.1', port: 9, security: 'none', authEnabled: true, username: 'u', password: BACKUP_PASSWORD, enabled: false })).status).toBe(201);
    await postroom.stop();
    const before = await sealedValues(db.url);
    expect(before.map((v) => openWith(legacyKey, v)).sort()).toEqual([BACKUP_PASSWORD, PRIMARY_PASSWORD].sort());

    postroom = await new PostroomProcess({ databaseUrl: db.url, dataDir, env: { SECRET_KEY: PASSPHRASE } }).start();
    const after = await sealedValues(db.url);
    expect(after.map((v) => openWith(scryptKey, v)).sort()).toEqual([BACKUP_PASSWORD, PRIMARY_PASSWORD].sort());
    const resealed = (await events(postroom, 'source=settings')).filter((e: EventEntry) => /re-sealed/.test(e.message));
    expect(resealed).toHaveLength(1);
    expect(resealed[0]!.message).toMatch(/2 stored secrets/);
    expect((await events(postroom, 'source=settings&level=warning')).filter((e) => /SECRET_KEY/.test(e.message))).toEqual([]);
    expect((await postroom.api<{ secretsUnreadable: string[] }>('GET', '/api/v1/settings')).body.secretsUnreadable).toEqual([]);

    await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'after the upgrade', text: 'hello' });
    await relay.waitFor(1);
    expect(relay.authAttempts).toEqual([{ user: 'relayuser', ok: true }]);

    // A second start finds nothing left to re-seal.
    await postroom.stop();
    postroom = await new PostroomProcess({ databaseUrl: db.url, dataDir, env: { SECRET_KEY: PASSPHRASE } }).start();
    expect((await events(postroom, 'source=settings')).filter((e) => /re-sealed/.test(e.message))).toHaveLength(1);
    expect(await sealedValues(db.url)).toEqual(after);
  });
});
