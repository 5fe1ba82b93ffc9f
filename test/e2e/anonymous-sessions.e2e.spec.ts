import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { sql } from '../helpers/sql.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

const sessionRows = async (url: string) => Number((await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM web_session'))[0]!.n);

describe('Anonymous visitors: no stored session before login, CSRF still on every form', () => {
  const app = dashboardPostroom();

  it('refuses a login POST without the login form’s token, or with a token and no cookie (403), and logs in with both', async () => {
    const res = await fetch(`${app.postroom.baseUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `password=${encodeURIComponent(WEB_PASSWORD)}`, redirect: 'manual' });
    expect(res.status).toBe(403);

    const visitor = new WebSession(app.postroom);
    await visitor.get('/login');
    expect(visitor.csrf).not.toBe('');
    const noToken = await visitor.request('POST', '/login', { form: { password: WEB_PASSWORD } });
    expect(noToken.status).toBe(403);
    const forged = await visitor.request('POST', '/login', { form: { _csrf: visitor.csrf + 'x', password: WEB_PASSWORD } });
    expect(forged.status).toBe(403);
    const noCookie = await fetch(`${app.postroom.baseUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: visitor.csrf, password: WEB_PASSWORD }).toString(), redirect: 'manual' });
    expect(noCookie.status).toBe(403);

    const ok = await visitor.post('/login', { password: WEB_PASSWORD, next: '/' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('set-cookie')).toMatch(/^postroom\.sid=/);
    expect((await visitor.get('/')).status).toBe(200);
  });

  it('still needs the session’s CSRF token on every other form once logged in', async () => {
    const admin = await new WebSession(app.postroom).login();
    await admin.get('/settings');
    for (const path of ['/settings', '/queue/flush', '/queue/delete', '/test-email', '/logout']) {
      expect((await admin.request('POST', path, { form: { relayHost: 'csrf.example.com' } })).status, path).toBe(403);
    }
    expect((await admin.get('/')).status).toBe(200);
  });

  it('stores no session for 50 cookieless visits to the login page, 50 failed logins and 50 visits to other pages', async () => {
    await sql(app.db.url, 'DELETE FROM web_session');
    const visitor = new WebSession(app.postroom);
    for (let i = 0; i < 50; i++) {
      const page = await fetch(`${app.postroom.baseUrl}/login`, { redirect: 'manual' });
      expect(page.status).toBe(200);
      await page.text();
    }
    await visitor.get('/login');
    // Five wrong passwords (401), then the throttle (429): failures either way.
    for (let i = 0; i < 50; i++) expect([401, 429]).toContain((await visitor.post('/login', { password: `wrong-${i}` })).status);
    for (let i = 0; i < 50; i++) expect((await fetch(`${app.postroom.baseUrl}/queue`, { redirect: 'manual' })).status).toBe(303);
    expect(await sessionRows(app.db.url)).toBe(0);
  });
});
