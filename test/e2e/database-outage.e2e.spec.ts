import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { RawSmtp } from './raw-smtp.js';

/** One SMTP transaction on a raw socket; answers the reply to the end of DATA. */
async function submit(port: number, subject: string): Promise<number> {
  const smtp = await RawSmtp.connect(port);
  try {
    expect((await smtp.read()).code).toBe(220);
    expect((await smtp.command('EHLO client.test')).code).toBe(250);
    expect((await smtp.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
    expect((await smtp.command('RCPT TO:<ops@example.com>')).code).toBe(250);
    expect((await smtp.command('DATA')).code).toBe(354);
    return (await smtp.data(`Subject: ${subject}\r\n\r\nbody\r\n`, 15_000)).code;
  } finally {
    smtp.close();
  }
}

describe('Database unreachable [SMTP 451]', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let admin: pg.Client;
  let name = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    name = new URL(db.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: await freePort(), security: 'none' });
  });

  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await postroom?.dispose();
    await admin?.end();
    await db?.drop();
  });

  it('answers 451 (never 250) while the database refuses connections, and 250 again once it is back', async () => {
    expect(await submit(postroom.smtpPort, 'before')).toBe(250);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
    expect(await submit(postroom.smtpPort, 'during')).toBe(451);
    const ready = await fetch(`${postroom.baseUrl}/readyz`);
    expect(ready.status).toBe(503);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    const code = await postroom.until(async () => {
      const c = await submit(postroom.smtpPort, 'after');
      return c === 250 ? c : undefined;
    }, 'a 250 after the database came back', 20_000);
    expect(code).toBe(250);

    // Only the acknowledged messages were stored; the refused one was not.
    const subjects = (await postroom.api<{ items: { subject: string }[] }>('GET', '/api/v1/queue')).body.items.map((i) => i.subject).sort();
    expect(subjects).toEqual(['after', 'before']);
  });
});
