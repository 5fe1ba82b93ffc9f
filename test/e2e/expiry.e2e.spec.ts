import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';

interface LogEntry {
  event: string;
  to: string;
  reply: string | null;
}

describe('Message lifetime: an undeliverable message bounces when its lifetime ends', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let sql: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: await freePort(), security: 'none', lifetimeHours: 1 });
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sql?.end();
    await db?.drop();
  });

  it('defers while within the lifetime, then bounces every pending recipient with the reason once it has passed', async () => {
    const { body } = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { from: 'backup@nas.local', to: ['ops@example.com', 'storage@example.org'], subject: 'Old alert', text: 'x' });
    const id = body.id;
    await postroom.until(async () => (await postroom.api<{ state: string }>('GET', `/api/v1/queue/${id}`)).body.state === 'deferred', 'the first deferral');

    // Age the message past its lifetime (1 h) and flush: the next failure is its last.
    await sql.query(`UPDATE message SET created_at = now() - interval '2 hours' WHERE id = $1`, [id]);
    expect((await postroom.api('POST', `/api/v1/queue/${id}/flush`)).status).toBe(200);
    await postroom.until(async () => (await postroom.api('GET', `/api/v1/queue/${id}`)).status === 404, 'the message to leave the queue');

    const log = (await postroom.api<{ items: LogEntry[] }>('GET', `/api/v1/mail-log?queueId=${id}`)).body.items;
    const bounced = log.filter((e) => e.event === 'bounced');
    expect(bounced.map((e) => e.to).sort()).toEqual(['ops@example.com', 'storage@example.org']);
    for (const b of bounced) expect(b.reply).toMatch(/^message expired after 1 h in the queue; last error: .*ECONNREFUSED/);
    expect(log.filter((e) => e.event === 'deferred')).toHaveLength(2);

    const events = (await postroom.api<{ items: { level: string; message: string }[] }>('GET', '/api/v1/events?source=delivery&level=warning')).body.items;
    expect(events.some((e) => e.message === `Expired: message ${id} to ops@example.com, storage@example.org`)).toBe(true);
  });
});
