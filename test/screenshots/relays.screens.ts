import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, ROOT, freePort } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

const OUT = path.join(ROOT, 'docs', 'screenshots');

/** The Relays page with a primary, a failing backup, a working one and a disabled one, at 1366×900. */
describe('relays screenshot', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;
  const primary = new SmtpSink({ starttls: false });
  const second = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await primary.start();
    await second.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, RELAY_RETRY_SECONDS: '1' } }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: primary.port, security: 'none', fromAddress: 'nas01@example.com', adminAddress: 'admin@example.com' });
    const closed = await freePort();
    await postroom.api('POST', '/api/v1/relays', { host: '127.0.0.1', port: closed, security: 'none', priority: 10 });
    await postroom.api('POST', '/api/v1/relays', { host: '127.0.0.1', port: second.port, security: 'none', priority: 20 });
    await postroom.api('POST', '/api/v1/relays', { host: 'smtp-backup.example.org', security: 'tls', tlsVerify: false, authEnabled: true, username: 'nas01@example.org', password: 'backup-secret', priority: 30, enabled: false });
    // The primary down for one message: the closed port fails, the second backup takes it.
    await primary.stop();
    await postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'Pool tank DEGRADED', text: 'x' });
    await second.waitFor(1, 30_000);
    await primary.start();
    await new Promise((r) => setTimeout(r, 1500));
    await postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'Nightly backup completed', text: 'x' });
    await primary.waitFor(1, 30_000);
    await new Promise((r) => setTimeout(r, 6000)); // health is written every 5 s
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await primary.stop();
    await second.stop();
    await db?.drop();
  });

  it('captures the Relays page', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${postroom.baseUrl}/`);
    await page.getByLabel('Admin password').fill(WEB_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${postroom.baseUrl}/`);
    await page.goto(`${postroom.baseUrl}/relays`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(OUT, 'relays.png') });
    await context.close();
  });
});
