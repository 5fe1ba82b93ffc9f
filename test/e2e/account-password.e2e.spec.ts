import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events } from './api.js';

const NEW_PASSWORD = 'tangerine wombat lighthouse 7';

/**
 * The Account page over HTTP: the admin password changed with the current one and the new one
 * twice, refused field by field (400, nothing changed), and every session ended by a change.
 * The tests run in order: the last one changes the password.
 */
describe('dashboard: Account, changing the admin password', () => {
  const app = dashboardPostroom();
  // Changes made in the dashboard (the first start records one by ADMIN_PASSWORD).
  const passwordEvents = async () => (await events(app.postroom, 'source=system')).filter((e) => e.message.startsWith('Admin password changed (dashboard'));

  // One session for the tests that do not change the password: every login is a password check,
  // and at most 10 are made in any 10 s (the login throttle).
  let web: WebSession;

  it('links the Account page from the header of every page, with a labelled form for the current password and the new one twice', async () => {
    web = await new WebSession(app.postroom).login();
    for (const path of ['/', '/queue', '/logs']) expect((await web.get(path)).text).toMatch(/<a href="\/account"\s*>Account<\/a>/);
    const page = await web.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Account</h1>');
    expect(page.text).toContain('<a href="/account" aria-current="page">Account</a>');
    for (const [id, label] of [
      ['f-current', 'Current password'],
      ['f-password', 'New password'],
      ['f-confirm', 'New password again'],
    ]) {
      expect(page.text).toContain(`<label for="${id}">${label}</label>`);
      expect(page.text).toMatch(new RegExp(`<input id="${id}" name="[a-z]+" type="password"`));
    }
    // Started with ADMIN_PASSWORD: the page says that a restart puts it back.
    expect(page.text).toContain('ADMIN_PASSWORD is set');
  });

  it('refuses a wrong current password, a weak or repeated new one and a mismatch with 400, errors next to the fields, and changes nothing', async () => {
    const cases: [Record<string, string>, Record<string, RegExp>][] = [
      [{ current: 'not the password', password: NEW_PASSWORD, confirm: NEW_PASSWORD }, { current: /This is not the current password\./ }],
      [{ current: WEB_PASSWORD, password: 'short 1', confirm: 'short 2' }, { password: /at least 12 characters long \(this one has 7\)/, confirm: /The two new passwords differ/ }],
      [{ current: WEB_PASSWORD, password: WEB_PASSWORD, confirm: WEB_PASSWORD }, { password: /must differ from the current one/ }],
      [{ current: WEB_PASSWORD, password: 'abcdefghijklmnop', confirm: 'abcdefghijklmnop' }, { password: /mix at least two kinds of characters/ }],
      [{ current: '', password: '', confirm: '' }, { current: /Enter the current password\./, password: /Enter a new password\./, confirm: /Type the new password a second time\./ }],
    ];
    for (const [form, expected] of cases) {
      const res = await web.post('/account/password', form);
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(res.text).toContain('The password was not changed.');
      for (const field of ['current', 'password', 'confirm']) {
        const input = new RegExp(`<input id="f-${field}" name="${field}" type="password"[^>]*aria-invalid="true"`);
        if (!expected[field]) {
          expect(res.text, `${field} is not marked`).not.toMatch(input);
          continue;
        }
        expect(res.text).toMatch(input);
        expect(res.text).toMatch(new RegExp(`<p id="f-${field}-error" class="error">[^<]*${expected[field].source}`));
      }
      // No password is ever sent back.
      expect(res.text).not.toMatch(/type="password"[^>]*value=/);
      expect(res.text).not.toContain(NEW_PASSWORD);
    }
    expect(await passwordEvents()).toEqual([]);
    expect((await web.get('/')).status).toBe(200); // still logged in
  });

  it('refuses a change without the CSRF token (403)', async () => {
    const forged = await web.request('POST', '/account/password', { form: { current: WEB_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD } });
    expect(forged.status).toBe(403);
    expect(await passwordEvents()).toEqual([]);
  });

  it('changes the password, ends every session (this one and a second one) and sends to the login with a message', async () => {
    const other = await new WebSession(app.postroom).login();
    await web.get('/account');
    const res = await web.post('/account/password', { current: WEB_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?changed=1');

    // Both sessions are over: pages go to the login, htmx is told to go there.
    for (const session of [web, other]) {
      const page = await session.get('/');
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toMatch(/^\/login/);
    }
    const fragment = await new WebSession(app.postroom).request('GET', '/dashboard/status', { htmx: true, headers: { cookie: other.cookie } });
    expect(fragment.status).toBe(401);

    const login = await new WebSession(app.postroom).get('/login?changed=1');
    expect(login.text).toContain('Password changed. Every session has ended: log in with the new password.');

    const old = new WebSession(app.postroom);
    await old.get('/login');
    expect((await old.post('/login', { password: WEB_PASSWORD })).status).toBe(401);
    expect((await (await new WebSession(app.postroom).login(NEW_PASSWORD)).get('/')).status).toBe(200);

    const [event] = await passwordEvents();
    expect(event?.message).toMatch(/^Admin password changed \(dashboard from [\d.:a-f]+\): \d+ dashboard session\(s\) ended$/);
    expect(Number(event?.details.sessionsEnded)).toBeGreaterThanOrEqual(2);
  });
});
