import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, freePort } from '../helpers/postroom-process.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

describe('Dashboard in a real browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: await freePort(), security: 'none', fromAddress: 'nas@example.com' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await db?.drop();
  });

  it('logs in with the admin password and shows the SMTP Dashboard with its menu', async () => {
    const page = await loggedInPage(browser, postroom);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('SMTP Dashboard');
    const menu = await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link').allTextContents();
    expect(menu).toEqual(['SMTP Dashboard', 'Edit Settings', 'Send Test Email', 'Relays', 'Channels', 'Rules', 'Mail Queue', 'Delete Queue', 'Flush Queue', 'Mail Log', 'Logs', "Today's Report", "Yesterday's Report"]);
    await page.context().close();
  });

  it('renders a subject of <script>alert(1)</script> as text, never as markup', async () => {
    const sent = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { to: 'ops@example.com', subject: '<script>alert(1)</script>', text: 'x' });
    expect(sent.status).toBe(202);
    const page = await loggedInPage(browser, postroom);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.reload();
    await expect(page.getByText('<script>alert(1)</script>').first().isVisible()).resolves.toBe(true);
    expect(await page.locator('main script').count()).toBe(0);
    expect(dialogs).toBe(0);
    await page.context().close();
  });

  it('refuses a POST without the CSRF token with 403, even from a logged-in browser', async () => {
    const page = await loggedInPage(browser, postroom);
    const status = await page.evaluate(async () => (await fetch('/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' })).status);
    expect(status).toBe(403);
    await page.reload();
    expect(page.url()).toBe(`${postroom.baseUrl}/`); // still logged in
    await page.context().close();
  });

  it('updates the counters live while the tab is visible', async () => {
    const page = await loggedInPage(browser, postroom);
    const before = Number(await page.locator('.counters li').first().locator('strong').textContent());
    await postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'live', text: 'x' });
    await expect
      .poll(async () => Number(await page.locator('.counters li').first().locator('strong').textContent()), { timeout: 12_000, interval: 500 })
      .toBe(before + 1);
    await page.context().close();
  });
});
