import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { sql } from '../helpers/sql.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

/** One argon2 verification per wrong password: each leaves one "Failed dashboard login" event. */
const failedLogins = async (url: string) => sql<{ client: string }>(url, `SELECT details->>'client' AS client FROM event WHERE message LIKE 'Failed dashboard login%' ORDER BY id`);

describe('Dashboard login throttle', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let behindProxy: PostroomProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
  });

  afterAll(async () => {
    await behindProxy?.dispose();
    await postroom?.dispose();
    await db?.drop();
  });

  it('verifies at most 5 of 40 concurrent wrong passwords from one address; the others get 429 with Retry-After', async () => {
    const guesser = new WebSession(postroom);
    await guesser.get('/login');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => guesser.post('/login', { password: `guess-${i}` })));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(5);
    expect(refused).toHaveLength(35);
    for (const r of refused) expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await failedLogins(db.url)).toHaveLength(5);
    // The right password waits too.
    expect((await guesser.post('/login', { password: WEB_PASSWORD })).status).toBe(429);
  });

  it('is forgotten at a restart (the throttle lives in memory): the admin logs in with ADMIN_PASSWORD again', async () => {
    await postroom.stop();
    await postroom.start();
    const admin = await new WebSession(postroom).login();
    expect((await admin.get('/')).status).toBe(200);
  });

  it('slows down guessing from many addresses together: 10 verifications at once, the others 429 with Retry-After', async () => {
    const before = (await failedLogins(db.url)).length;
    behindProxy = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, TRUST_PROXY: 'loopback' } }).start();
    const guesser = new WebSession(behindProxy);
    await guesser.get('/login');
    const guess = (i: number) => guesser.request('POST', '/login', { form: { _csrf: guesser.csrf, password: `guess-${i}` }, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => guess(i)));
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(10);
    expect(refused).toHaveLength(6);
    for (const r of refused) {
      const wait = Number(r.headers.get('retry-after'));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(10);
    }
    // Each from its own address (the proxy's X-Forwarded-For): no address reached its own limit.
    const clients = (await failedLogins(db.url)).slice(before).map((e) => e.client);
    expect(clients).toHaveLength(10);
    expect(new Set(clients).size).toBe(10);
    for (const c of clients) expect(c).toMatch(/^198\.51\.100\.\d+$/);
    // The right password from yet another address waits as well.
    const right = await guesser.request('POST', '/login', { form: { _csrf: guesser.csrf, password: WEB_PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(right.status).toBe(429);
  });
});
