import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';

describe('Dashboard login, sessions and CSRF', () => {
  const app = dashboardPostroom();

  it('redirects every page to the login without a session, and tells htmx to go there', async () => {
    const web = new WebSession(app.postroom);
    for (const path of ['/', '/dashboard/status']) {
      const page = await web.get(path);
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    const fragment = await web.get('/dashboard/status', true);
    expect(fragment.status).toBe(401);
    expect(fragment.headers.get('hx-redirect')).toBe('/login');
  });

  it('refuses a wrong password and logs in with the right one under a new session id', async () => {
    const web = new WebSession(app.postroom);
    await web.get('/login');
    const before = web.cookie;
    const wrong = await web.post('/login', { password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong password.');
    const ok = await web.post('/login', { password: WEB_PASSWORD, next: '/' });
    expect(ok.status).toBe(303);
    expect(web.cookie).not.toBe(before);
    const home = await web.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('<h1>SMTP Dashboard</h1>');
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(home.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('refuses a POST without the CSRF token (403) and changes nothing', async () => {
    const web = await new WebSession(app.postroom).login();
    const forged = await web.request('POST', '/logout', { form: { nothing: '1' } });
    expect(forged.status).toBe(403);
    expect((await web.get('/')).status).toBe(200); // still logged in
  });

  it('serves htmx from its own origin', async () => {
    const res = await fetch(`${app.postroom.baseUrl}/assets/htmx.min.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('htmx');
  });

  it('sends the status fragment alone to htmx and the whole page otherwise, with Vary: HX-Request', async () => {
    const web = await new WebSession(app.postroom).login();
    const full = await web.get('/');
    const fragment = await web.get('/', true);
    expect(full.text).toContain('<html');
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('class="counters"');
    expect(full.headers.get('vary')).toMatch(/HX-Request/i);
    expect(fragment.headers.get('vary')).toMatch(/HX-Request/i);
  });
});
