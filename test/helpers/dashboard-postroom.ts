import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase } from './db.js';
import { PostroomProcess } from './postroom-process.js';
import { WEB_PASSWORD } from './web-session.js';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/**
 * The compiled Postroom on a database of its own, with the test admin password (WEB_PASSWORD):
 * started before the calling file's tests (in its describe block), stopped and dropped after
 * them. `env` adds to the defaults.
 */
export function dashboardPostroom(env: Record<string, string> = {}): { postroom: PostroomProcess; db: TestDatabase } {
  const fixture = { postroom: undefined as unknown as PostroomProcess, db: undefined as unknown as TestDatabase };
  beforeAll(async () => {
    fixture.db = await createTestDatabase();
    fixture.postroom = await new PostroomProcess({ databaseUrl: fixture.db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, ...env } }).start();
  });
  afterAll(async () => {
    await fixture.postroom?.dispose();
    await fixture.db?.drop();
  });
  return fixture;
}
