import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

const NEW_PASSWORD = 'quartz meadow lantern 42';

/** The Account page in Chromium: the admin password changed from the header's link, and every session ended. */
describe('Changing the admin password in a real browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await db?.drop();
  });

  it('shows errors next to the fields, then changes the password, logs this browser and a second one out, and takes the new password', async () => {
    const second = await loggedInPage(browser, postroom);
    // On a page without live refresh, whose next poll would go to the login by itself.
    await second.goto(`${postroom.baseUrl}/logs`);
    const page = await loggedInPage(browser, postroom);

    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Change the admin password' }).waitFor();
    await page.getByLabel('Current password').fill(WEB_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('tooshort');
    await page.getByLabel('New password again').fill('tooshort');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The password was not changed.').waitFor();
    expect(await page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Current password').getAttribute('aria-invalid')).toBeNull();
    await expect(page.locator('#f-password-error').textContent()).resolves.toMatch(/at least 12 characters/);

    await page.getByLabel('Current password').fill(WEB_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${postroom.baseUrl}/login?changed=1`);
    await page.getByText('Password changed. Every session has ended: log in with the new password.').waitFor();

    // The other browser, logged in before the change, is out at its next click.
    await second.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Mail Queue' }).click();
    await second.waitForURL(/\/login\?next=%2Fqueue$/);
    await second.getByLabel('Admin password').fill(WEB_PASSWORD);
    await second.getByRole('button', { name: 'Log in' }).click();
    await second.getByText('Wrong password.').waitFor();

    await page.getByLabel('Admin password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${postroom.baseUrl}/`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('SMTP Dashboard');
    await second.context().close();
    await page.context().close();
  });
});
