import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { sql } from '../helpers/sql.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

const HOUR = 3600_000;

/** Moves the login time of every stored session back by `hours`, as if it had logged in then. */
const loggedInHoursAgo = (url: string, hours: number) =>
  sql(url, `UPDATE web_session SET sess = jsonb_set(sess::jsonb, '{loginAt}', to_jsonb((extract(epoch FROM now()) * 1000)::bigint - $1::bigint))::json`, [Math.round(hours * HOUR)]);

describe('Dashboard sessions: absolute lifetime, password changes, Secure cookies', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const started: PostroomProcess[] = [];
  const start = async (options: ConstructorParameters<typeof PostroomProcess>[0]) => {
    const p = new PostroomProcess(options);
    started.push(p);
    return p.start();
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const p of started.reverse()) await p.dispose();
    await db?.drop();
  });

  it('ends a session that is used all the time once its lifetime since login (12 h) has passed', async () => {
    const postroom = await start({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } });
    const web = await new WebSession(postroom).login();
    await loggedInHoursAgo(db.url, 11.9);
    expect((await web.get('/')).status).toBe(200);
    await loggedInHoursAgo(db.url, 12.1);
    const fragment = await web.get('/dashboard/status', true);
    expect(fragment.status).toBe(401);
    expect(fragment.headers.get('hx-redirect')).toBe('/login');
    const page = await web.get('/');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2F');
    expect(await sql(db.url, 'SELECT sid FROM web_session')).toEqual([]);
    await postroom.stop();
  });

  it('follows SESSION_LIFETIME_HOURS', async () => {
    const postroom = await start({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, SESSION_LIFETIME_HOURS: '2' } });
    const web = await new WebSession(postroom).login();
    await loggedInHoursAgo(db.url, 1.9);
    expect((await web.get('/')).status).toBe(200);
    await loggedInHoursAgo(db.url, 2.1);
    expect((await web.get('/')).status).toBe(303);
    await postroom.stop();
  });

  it('ends every session when a restart brings another ADMIN_PASSWORD; the new one works, the old one no more', { timeout: 90_000 }, async () => {
    const first = await start({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } });
    const web = await new WebSession(first).login();
    // The same password again keeps the sessions.
    await first.stop();
    await first.start();
    expect((await web.get('/')).status).toBe(200);
    await first.stop();

    const changed = await start({ databaseUrl: db.url, dataDir: first.dataDir, env: { ADMIN_PASSWORD: 'a brand new admin password' } });
    const stale = await fetch(`${changed.baseUrl}/`, { headers: { cookie: web.cookie }, redirect: 'manual' });
    expect(stale.status).toBe(303);
    expect(stale.headers.get('location')).toMatch(/^\/login/);
    const old = new WebSession(changed);
    await old.get('/login');
    expect((await old.post('/login', { password: WEB_PASSWORD })).status).toBe(401);
    await new WebSession(changed).login('a brand new admin password');
    await changed.stop();
  });

  it('marks the cookies Secure behind a trusted proxy that says HTTPS (TRUST_PROXY), and only then', { timeout: 90_000 }, async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const cookiesOf = async (postroom: PostroomProcess, headers: Record<string, string>) => {
      const web = new WebSession(postroom);
      const page = await web.request('GET', '/login', { headers });
      const login = await web.request('POST', '/login', { form: { _csrf: web.csrf, password: WEB_PASSWORD, next: '/' }, headers });
      expect(login.status).toBe(303);
      return [page.headers.get('set-cookie') ?? '', login.headers.get('set-cookie') ?? ''];
    };

    const proxied = await start({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, TRUST_PROXY: 'loopback' } });
    const secure = await cookiesOf(proxied, https);
    expect(secure[1]).toMatch(/^postroom\.sid=/);
    for (const c of secure) expect(c).toMatch(/;\s*Secure/i);
    for (const c of await cookiesOf(proxied, {})) expect(c).not.toMatch(/;\s*Secure/i);
    await proxied.stop();

    // Without TRUST_PROXY the header is anyone's to send: ignored.
    const direct = await start({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } });
    for (const c of await cookiesOf(direct, https)) expect(c).not.toMatch(/;\s*Secure/i);
  });
});
