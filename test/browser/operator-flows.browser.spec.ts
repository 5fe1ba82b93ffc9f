import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

interface Settings {
  relayHost: string;
  relayPort: number | null;
  fromAddress: string;
}

/** The operator's everyday work, in Chromium: settings, test email, queue, flush, delete, mail log. */
describe('Operator flows in a real browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;
  let page: Page;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    browser = await launchBrowser();
    page = await loggedInPage(browser, postroom);
    await page.setViewportSize({ width: 1366, height: 900 }); // an operator's laptop
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  /** The save's result is the focused element and lies inside the viewport. */
  async function expectResultInViewAndFocused(text: RegExp): Promise<void> {
    await page.waitForFunction(() => document.activeElement?.id === 'settings-result');
    const result = page.locator('#settings-result');
    expect(await result.textContent()).toMatch(text);
    const box = await result.boundingBox();
    const viewport = page.viewportSize()!;
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeLessThan(viewport.height);
  }

  it('saves settings with errors shown in place and nothing saved, then saves them correctly', async () => {
    await page.getByRole('link', { name: 'Edit Settings' }).click();
    await page.getByLabel('Relay host').fill('127.0.0.1');
    await page.getByLabel('Relay port').fill('99999');
    await page.getByLabel('Security').selectOption('none');
    await page.getByLabel('From address').fill('not an address');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    // Save is ~4,000 px below the result: the result is brought into view and focused.
    await expectResultInViewAndFocused(/Nothing was saved\./);
    expect(await page.getByLabel('Relay port').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('From address').getAttribute('aria-invalid')).toBe('true');
    expect((await postroom.api<Settings>('GET', '/api/v1/settings')).body.relayHost).toBe('');

    await page.getByLabel('Relay port').fill(String(sink.port));
    await page.getByLabel('From address').fill('nas@example.com');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/Settings saved: /).waitFor();
    await expectResultInViewAndFocused(/Settings saved: /);
    const saved = (await postroom.api<Settings>('GET', '/api/v1/settings')).body;
    expect(saved).toMatchObject({ relayHost: '127.0.0.1', relayPort: sink.port, fromAddress: 'nas@example.com' });
  });

  it('tests the settings on screen from Edit Settings without saving them', async () => {
    await page.getByRole('link', { name: 'Edit Settings' }).click();
    await page.getByLabel('From name').fill('Not saved yet');
    await page.getByLabel('Test these settings: send a test email to').fill('ops@example.com');
    const before = sink.messages.length;
    await page.getByRole('button', { name: 'Test these settings' }).click();
    await page.getByRole('heading', { name: 'Test email sent' }).waitFor();
    await expectResultInViewAndFocused(/nothing was saved yet/);
    await sink.waitFor(before + 1);
    expect(sink.messages.at(-1)!.data.toString()).toContain('Not saved yet');
    expect((await postroom.api<Settings & { fromName: string }>('GET', '/api/v1/settings')).body.fromName).not.toBe('Not saved yet');
  });

  it('sends a test email to the sink and shows the success in the page', async () => {
    await page.getByRole('link', { name: 'Send Test Email' }).click();
    await page.getByLabel('Send a test email to').fill('ops@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('heading', { name: 'Test email sent' }).waitFor();
    await sink.waitFor(1);
    expect(sink.messages.at(-1)?.to).toEqual(['ops@example.com']);
  });

  it('shows a deferred message in the queue, flushes it after the relay is back, and it is delivered', async () => {
    await sink.stop();
    const sent = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'Pool degraded', text: 'zpool tank is DEGRADED' });
    await page.getByRole('link', { name: 'Mail Queue', exact: true }).click();
    // The table refreshes itself: the row appears and turns deferred without a reload.
    await page.locator('tr', { hasText: sent.body.id }).locator('.badge', { hasText: 'deferred' }).waitFor({ timeout: 15_000 });

    await sink.start();
    const before = sink.messages.length;
    await page.getByRole('link', { name: 'Flush Queue' }).click();
    await page.getByText('Flush 1 deferred message now?').waitFor();
    await page.getByRole('button', { name: 'Flush 1 message' }).click();
    await page.getByText(/1 message flushed/).waitFor();
    await sink.waitFor(before + 1);
    expect(sink.messages.at(-1)?.data.toString()).toContain('Subject: Pool degraded');

    await page.getByRole('link', { name: 'Mail Queue', exact: true }).click();
    await page.locator('tr', { hasText: sent.body.id }).waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('opens a deferred message from the queue: its body in the page, held from there, and back to the queue', async () => {
    await sink.stop();
    const sent = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'Disk sdc failing', text: 'SMART: sdc reallocated sectors 4242' });
    await page.getByRole('link', { name: 'Mail Queue', exact: true }).click();
    const row = page.locator('tr', { hasText: sent.body.id });
    await row.locator('.badge', { hasText: 'deferred' }).waitFor({ timeout: 15_000 });
    await row.getByRole('link', { name: sent.body.id }).click();
    await page.getByRole('heading', { name: `Message ${sent.body.id}` }).waitFor();
    await page.getByText('SMART: sdc reallocated sectors 4242').waitFor();
    await page.getByRole('button', { name: 'Hold' }).click();
    await page.getByText(`Message ${sent.body.id} put on hold.`).waitFor();
    expect((await postroom.api<{ state: string }>('GET', `/api/v1/queue/${sent.body.id}`)).body.state).toBe('hold');
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: `Delete message ${sent.body.id}` }).click();
    await page.getByText(`Message ${sent.body.id} deleted.`).waitFor();
    await page.getByRole('link', { name: 'Back to the mail queue' }).click();
    await page.waitForURL(/\/queue/);
    await sink.start();
  });

  it('deletes the whole queue after a confirmation that says how many messages it touches', async () => {
    await sink.stop();
    for (let i = 0; i < 3; i++) await postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: `Disk ${i} failing`, text: 'x' });
    await postroom.until(async () => (await postroom.api<{ deferred: number }>('GET', '/api/v1/queue/counts')).body.deferred === 3, 'three deferred');
    await page.getByRole('link', { name: 'Delete Queue' }).click();
    await page.getByText('Delete 3 messages from the queue?').waitFor();
    await page.getByRole('button', { name: 'Delete 3 messages' }).click();
    await page.getByText('3 messages deleted.').waitFor();
    const counts = (await postroom.api<Record<string, number>>('GET', '/api/v1/queue/counts')).body;
    expect(counts.queued! + counts.deferred! + counts.hold!).toBe(0);
    await sink.start();
  });

  it('pages through a mail log of several pages with Next and Prev', async () => {
    await page.goto(`${postroom.baseUrl}/mail-log?limit=4`);
    const ids = async () => page.locator('main table tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim() ?? ''));
    const first = await ids();
    expect(first).toHaveLength(4);
    await page.getByRole('link', { name: /Next/ }).first().click();
    await expect.poll(ids).not.toEqual(first);
    const second = await ids();
    await page.getByRole('link', { name: /Next/ }).first().click();
    await expect.poll(ids).not.toEqual(second);
    const third = await ids();
    expect(new Set([...first, ...second, ...third]).size).toBe(first.length + second.length + third.length);
    await page.getByRole('link', { name: /Prev/ }).first().click();
    await expect.poll(ids).toEqual(second);
    expect(page.url()).toContain('before=');
  });
});
