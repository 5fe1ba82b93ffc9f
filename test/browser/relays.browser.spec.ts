import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPostroom } from '../helpers/browser.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

interface Relay {
  id: string;
  relay: string;
  primary: boolean;
  priority: number;
  enabled: boolean;
  passwordSet: boolean;
}

/** The Relays page in Chromium at an operator's 1366×900: add, refuse, reorder, test, remove; and the same forms without JavaScript. */
describe('The Relays page in a real browser', () => {
  const sink = new SmtpSink({ starttls: false });

  const app = browserPostroom(sink, async (postroom) => {
    await postroom.api('PUT', '/api/v1/settings', { relayHost: 'smtp.example.com', relayPort: 587, security: 'starttls', fromAddress: 'nas@example.com', adminAddress: 'admin@example.com' });
  });

  const relays = async () => (await app.postroom.api<{ items: Relay[] }>('GET', '/api/v1/relays')).body.items;
  /** The relays as the page lists them, in order. */
  const listed = (page: Page) => page.locator('table.relay-list tbody .relay-name').allTextContents();

  async function logIn(javaScriptEnabled = true): Promise<Page> {
    const context = await app.browser.newContext({ viewport: { width: 1366, height: 900 }, javaScriptEnabled });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${app.postroom.baseUrl}/`);
    await page.getByLabel('Admin password').fill(WEB_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/`);
    return page;
  }

  it('adds a backup, refuses a bad port next to its field, reorders, tests one and removes one after the confirmation', async () => {
    const page = await logIn();
    const backup = `127.0.0.1:${sink.port}`;
    await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Relays' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/relays`);
    expect(await listed(page)).toEqual(['smtp.example.com:587']);
    await expect(page.getByRole('link', { name: 'Edit Settings' }).last().getAttribute('href')).resolves.toBe('/settings#f-relayHost');

    // Add a backup pointing at the loopback sink, with a login (the password is never shown again).
    const add = page.locator('#relay-add');
    await add.getByLabel('Host').fill('127.0.0.1');
    await add.getByLabel('Port').fill(String(sink.port));
    await add.getByLabel('Security').selectOption('none');
    await add.getByRole('button', { name: 'Add relay' }).click();
    await page.getByText(`Backup relay ${backup} added (priority 1).`).waitFor();
    expect(await listed(page)).toEqual(['smtp.example.com:587', backup]);

    // A bad port: the reason next to the field, the other values kept, nothing saved.
    await add.getByLabel('Host').fill('backup2.example.com');
    await add.getByLabel('Port').fill('99999');
    await add.getByLabel('Log in (SMTP AUTH)').check();
    await add.getByLabel('Username').fill('mailer');
    await add.getByLabel('Password').fill('s3cret-backup');
    await add.getByRole('button', { name: 'Add relay' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    expect(await add.getByLabel('Port').getAttribute('aria-invalid')).toBe('true');
    expect(await add.getByLabel('Host').getAttribute('aria-invalid')).toBeNull();
    await expect(page.locator('#f-port-error').textContent()).resolves.toMatch(/port number \(1-65535\)/);
    expect(await add.getByLabel('Host').inputValue()).toBe('backup2.example.com');
    expect(await add.getByLabel('Password').inputValue()).toBe(''); // never sent back
    expect((await relays()).length).toBe(2);

    await add.getByLabel('Port').fill('2526');
    await add.getByLabel('Password').fill('s3cret-backup');
    await add.getByRole('button', { name: 'Add relay' }).click();
    await page.getByText('Backup relay backup2.example.com:2526 added (priority 2).').waitFor();
    expect(await listed(page)).toEqual(['smtp.example.com:587', backup, 'backup2.example.com:2526']);
    const row = page.locator('table.relay-list tbody tr', { hasText: 'backup2.example.com:2526' });
    expect(await row.textContent()).toContain('password set');
    expect(await page.content()).not.toContain('s3cret-backup');

    // Reorder: the second backup moves up, the priorities follow.
    await page.getByRole('button', { name: 'Move relay backup2.example.com:2526 up' }).click();
    await page.getByText('Relay backup2.example.com:2526 moved up: now tried 2nd.').waitFor();
    expect(await listed(page)).toEqual(['smtp.example.com:587', 'backup2.example.com:2526', backup]);
    expect((await relays()).map((r) => [r.relay, r.priority])).toEqual([
      ['smtp.example.com:587', 0],
      ['backup2.example.com:2526', 1],
      [backup, 2],
    ]);
    expect(await page.getByRole('button', { name: 'Move relay backup2.example.com:2526 up' }).count()).toBe(0);

    // Test the sink's relay: the message arrives and the page shows the diagnosis.
    await page.getByRole('link', { name: `Test relay ${backup}` }).click();
    await page.getByRole('heading', { name: `Test the backup relay ${backup}` }).waitFor();
    expect(await page.getByLabel('Send a test email to').inputValue()).toBe('admin@example.com');
    await page.getByLabel('Send a test email to').fill('ops@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('heading', { name: 'Test email sent' }).waitFor();
    await sink.waitFor(1);
    expect(sink.messages[0]!.to).toEqual(['ops@example.com']);
    expect(await page.locator('.test-result .diagnosis').textContent()).toContain(backup);

    // Remove one: the confirmation names it; nothing goes before it is confirmed.
    await page.getByRole('link', { name: 'Remove relay backup2.example.com:2526' }).click();
    await page.getByRole('heading', { name: 'Remove the backup relay backup2.example.com:2526?' }).waitFor();
    expect((await relays()).length).toBe(3);
    await page.getByRole('button', { name: 'Remove backup2.example.com:2526' }).click();
    await page.getByText('Backup relay backup2.example.com:2526 removed.').waitFor();
    expect(await listed(page)).toEqual(['smtp.example.com:587', backup]);
    expect((await relays()).map((r) => r.relay)).toEqual(['smtp.example.com:587', backup]);
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/relays');

    const events = await app.postroom.api<{ items: { message: string }[] }>('GET', '/api/v1/events?limit=20');
    expect(events.body.items.map((e) => e.message)).toContain('Relay backup2.example.com:2526 removed by admin');
    await page.context().close();
  }, 60_000);

  it('works without JavaScript: plain forms, a 303 back with the message, errors next to their fields', async () => {
    const page = await logIn(false);
    await page.goto(`${app.postroom.baseUrl}/relays`);
    const add = page.locator('#relay-add');
    await add.getByLabel('Host').fill('nojs.example.com');
    await add.getByLabel('Port').fill('not a port');
    await add.getByRole('button', { name: 'Add relay' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    expect(await add.getByLabel('Port').getAttribute('aria-invalid')).toBe('true');

    await add.getByLabel('Port').fill('');
    await add.getByLabel('Priority').fill('500');
    await add.getByRole('button', { name: 'Add relay' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/relays#relays`);
    await page.getByText('Backup relay nojs.example.com:587 added (priority 500).').waitFor();

    await page.getByRole('link', { name: 'Edit relay nojs.example.com:587' }).click();
    await page.getByRole('heading', { name: 'Edit backup relay nojs.example.com:587' }).waitFor();
    await page.getByLabel('Enabled: mail is sent through it').uncheck();
    await page.getByRole('button', { name: 'Save relay' }).click();
    await page.getByText('Relay nojs.example.com:587 saved.').waitFor();
    expect((await relays()).find((r) => r.relay === 'nojs.example.com:587')?.enabled).toBe(false);

    await page.getByRole('link', { name: 'Remove relay nojs.example.com:587' }).click();
    await page.getByRole('heading', { name: 'Remove the backup relay nojs.example.com:587?' }).waitFor();
    await page.getByRole('button', { name: 'Remove nojs.example.com:587' }).click();
    await page.getByText('Backup relay nojs.example.com:587 removed.').waitFor();
    expect((await relays()).some((r) => r.relay === 'nojs.example.com:587')).toBe(false);
    await page.context().close();
  }, 60_000);
});
