import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { WebSession } from '../helpers/web-session.js';
import { events } from './api.js';

/** Logins in the Logs: repeated successful ones from one address fold; failed ones each stay. */
describe('dashboard logins in the event log', () => {
  const app = dashboardPostroom();
  const loginEvents = async () => (await events(app.postroom, 'source=system')).filter((e) => /dashboard login/i.test(e.message)).reverse();

  it('records the first login from an address and folds the next ones within the hour, but records each failed login', async () => {
    for (let i = 0; i < 4; i++) await new WebSession(app.postroom).login();
    const wrong = new WebSession(app.postroom);
    await wrong.get('/login');
    for (let i = 0; i < 2; i++) expect((await wrong.post('/login', { password: 'not it' })).status).toBe(401);
    await new WebSession(app.postroom).login();

    const seen = await loginEvents();
    expect(seen.map((e) => e.message.replace(/from \S+/, 'from CLIENT'))).toEqual(['Dashboard login from CLIENT', 'Failed dashboard login from CLIENT', 'Failed dashboard login from CLIENT']);
    expect(seen.map((e) => e.level)).toEqual(['info', 'warning', 'warning']);
  });

  it('writes the count of the folded logins when Postroom stops', async () => {
    await app.postroom.stop();
    await app.postroom.start();
    const folded = (await loginEvents()).find((e) => e.message.includes('more within the hour'));
    expect(folded?.message).toMatch(/^Dashboard login from \S+: 4 more within the hour$/);
    expect(folded?.details).toMatchObject({ actor: 'admin', logins: 4 });
  });
});
