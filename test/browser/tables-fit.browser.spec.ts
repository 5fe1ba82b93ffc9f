import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPostroom } from '../helpers/browser.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

const SCREENS = [
  { width: 1366, height: 900 },
  { width: 1280, height: 720 },
];

/** What sticks out sideways: the page, <main> and each table's own scroller, as scrollWidth − clientWidth. */
const overflow = (page: Page, scroller: string) =>
  page.evaluate((selector) => {
    const excess = (el: Element | null) => (el ? el.scrollWidth - el.clientWidth : -1);
    return { page: excess(document.documentElement), main: excess(document.querySelector('main')), table: excess(document.querySelector(selector)) };
  }, scroller);

/** The right and left edges of the matching elements, and the viewport's width (without a scroll bar). */
const edges = (page: Page, selector: string) =>
  page.evaluate((sel) => ({
    width: document.documentElement.clientWidth,
    boxes: [...document.querySelectorAll(sel)].map((el) => {
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, text: el.textContent?.trim() ?? '' };
    }),
  }), selector);

/**
 * The Mail Queue and the Mail Log on the screens an operator has (1366×900, 1280×720): every
 * row's buttons and the last columns on screen, nothing scrolled sideways, with realistic data
 * (long addresses, several recipients, greylisting and rejection replies). And the queue's
 * select-all box.
 */
describe('Mail Queue and Mail Log fit the screen without scrolling sideways', () => {
  const sink = new SmtpSink({
    starttls: false,
    rcptReply: (a) => {
      if (a.startsWith('greylisted')) return { code: 450, message: `4.7.1 <${a}>: Recipient address rejected: Greylisted, please try again in 300 seconds; see https://postmaster.example.net/greylisting.html for details` };
      if (a.startsWith('nobody')) return { code: 550, message: `5.1.1 <${a}>: Recipient address rejected: User unknown in virtual mailbox table (mailbox-store-02.datacenter.example.net)` };
      return undefined;
    },
  });

  const app = browserPostroom(sink, async (postroom) => {
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas01-storage-controller@appliance.example.com' });
    const to = ['greylisted.operations.team@storage-cluster-01.datacenter.example.org', 'ops@example.com', 'nobody@example.com'];
    const subjects = ['SMART error (Reallocated_Sector_Ct) detected on host nas01: /dev/disk/by-id/ata-WDC_WD120EFBX-68B0EN0_D7HBX3KN', 'Pool tank DEGRADED', 'Backup'];
    for (let i = 0; i < 6; i++) {
      const r = await postroom.api('POST', '/api/v1/messages', { to: i % 2 ? to : to[0], cc: i === 0 ? 'greylisted-storage-team@example.org' : undefined, subject: subjects[i % 3], text: 'x' });
      expect(r.status).toBe(202);
    }
    await postroom.until(async () => (await postroom.api<{ deferred: number }>('GET', '/api/v1/queue/counts')).body.deferred === 6, 'six deferred messages');
    const q = await postroom.api<{ items: { id: string }[] }>('GET', '/api/v1/queue');
    expect((await postroom.api('POST', `/api/v1/queue/${q.body.items[1]!.id}/hold`)).status).toBe(200);
  });

  const openAt = async (screen: { width: number; height: number }, path: string) => {
    const context = await app.browser.newContext({ viewport: screen });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${app.postroom.baseUrl}/login`);
    await page.getByLabel('Admin password').fill(WEB_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/`);
    await page.goto(app.postroom.baseUrl + path);
    return page;
  };

  for (const screen of SCREENS) {
    it(`shows every queue row's action buttons and its last error at ${screen.width}×${screen.height}`, async () => {
      const page = await openAt(screen, '/queue');
      await page.locator('table.queue tbody tr').first().waitFor();
      expect(await page.locator('table.queue tbody tr').count()).toBe(6);
      expect(await overflow(page, '.queue-scroll')).toEqual({ page: 0, main: 0, table: 0 });

      const buttons = await edges(page, 'table.queue td.row-actions button');
      expect(buttons.boxes.map((b) => b.text).sort()).toEqual([...Array(5).fill('Flush'), ...Array(5).fill('Hold'), 'Release', ...Array(6).fill('Delete')].sort());
      for (const b of buttons.boxes) {
        expect(b.left, b.text).toBeGreaterThanOrEqual(0);
        expect(b.right, b.text).toBeLessThanOrEqual(buttons.width);
      }
      const headers = await edges(page, 'table.queue thead th');
      expect(headers.boxes.map((h) => h.text.split(/\s+/)[0])).toEqual(['Select', 'Queue', 'Arrived', 'From', 'Subject', 'State', 'Last', 'Actions']);
      for (const h of headers.boxes) expect(h.right, h.text).toBeLessThanOrEqual(headers.width);
      // A long error is cut to a few lines, the whole of it in the title.
      const error = page.locator('table.queue td.err .clamp').first();
      expect(await error.getAttribute('title')).toMatch(/Greylisted, please try again in 300 seconds/);
      await page.context().close();
    });

    it(`shows the mail log's relay and reply column at ${screen.width}×${screen.height}`, async () => {
      const page = await openAt(screen, '/mail-log');
      await page.locator('table.log tbody tr').first().waitFor();
      expect(await overflow(page, '.table-wrap')).toEqual({ page: 0, main: 0, table: 0 });
      const headers = await edges(page, 'table.log thead th');
      expect(headers.boxes.at(-1)?.text).toBe('Relay and reply');
      for (const h of headers.boxes) expect(h.right, h.text).toBeLessThanOrEqual(headers.width);
      const replies = await edges(page, 'table.log td .reply');
      expect(replies.boxes.some((r) => r.text.includes('User unknown in virtual mailbox table'))).toBe(true);
      for (const r of replies.boxes) expect(r.right, r.text).toBeLessThanOrEqual(replies.width);
      await page.context().close();
    });
  }

  it('selects every row with the select-all box, shows a partial selection as mixed, and clears them all', async () => {
    const page = await openAt(SCREENS[1]!, '/queue');
    const all = page.getByLabel('Select every message on this page');
    const rows = page.locator('table.queue tbody input[name="ids"]');
    await rows.first().waitFor();
    const checked = () => rows.evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).checked));

    await all.check();
    expect(await checked()).toEqual(Array(6).fill(true));
    await rows.nth(2).uncheck();
    expect(await all.evaluate((b) => [(b as HTMLInputElement).checked, (b as HTMLInputElement).indeterminate])).toEqual([false, true]);
    await rows.nth(2).check();
    expect(await all.isChecked()).toBe(true);
    // The live refresh (every 5 s) keeps the selection.
    await page.waitForTimeout(6_000);
    expect(await checked()).toEqual(Array(6).fill(true));
    expect(await all.isChecked()).toBe(true);
    await all.uncheck();
    expect(await checked()).toEqual(Array(6).fill(false));

    // Select all, then one bulk action for them all.
    await all.check();
    await page.getByRole('button', { name: 'Hold selected' }).click();
    await page.getByText('5 messages put on hold (1 of the selected could not be put on hold in their current state).').waitFor();
    await page.context().close();
  }, 30_000);
});
