import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD, WebSession } from '../helpers/web-session.js';
import { events } from './api.js';

/** Logins in the Logs: repeated successful ones from one address fold; failed ones each stay. */
describe('dashboard logins in the event log', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const loginEvents = async () => (await events(postroom, 'source=system')).filter((e) => /dashboard login/i.test(e.message)).reverse();

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
  });

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
  });

  it('records the first login from an address and folds the next ones within the hour, but records each failed login', async () => {
    for (let i = 0; i < 4; i++) await new WebSession(postroom).login();
    const wrong = new WebSession(postroom);
    await wrong.get('/login');
    for (let i = 0; i < 2; i++) expect((await wrong.post('/login', { password: 'not it' })).status).toBe(401);
    await new WebSession(postroom).login();

    const seen = await loginEvents();
    expect(seen.map((e) => e.message.replace(/from \S+/, 'from CLIENT'))).toEqual(['Dashboard login from CLIENT', 'Failed dashboard login from CLIENT', 'Failed dashboard login from CLIENT']);
    expect(seen.map((e) => e.level)).toEqual(['info', 'warning', 'warning']);
  });

  it('writes the count of the folded logins when Postroom stops', async () => {
    await postroom.stop();
    await postroom.start();
    const folded = (await loginEvents()).find((e) => e.message.includes('more within the hour'));
    expect(folded?.message).toMatch(/^Dashboard login from \S+: 4 more within the hour$/);
    expect(folded?.details).toMatchObject({ actor: 'admin', logins: 4 });
  });
});
