import path from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, ROOT } from '../helpers/postroom-process.js';
import { HttpSink } from '../helpers/http-sink.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

const OUT = path.join(ROOT, 'docs', 'screenshots');

/** Fills a Postroom with a plausible day (sent, deferred, bounced, held) and photographs each page. */
describe('dashboard screenshots', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;
  let page: Page;
  const phone = new HttpSink();
  const sink = new SmtpSink({ starttls: false, rcptReply: (a) => (a.startsWith('nobody@') ? { code: 550, message: '5.1.1 <' + a + '>: Recipient address rejected: User unknown' } : undefined) });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    await phone.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD, SELF_CHECK_SECONDS: '1' } }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas01@example.com', fromName: 'NAS01', adminAddress: 'admin@example.com', hostname: 'nas01.example.com' });
    const subjects = ['Nightly backup completed', 'SMART: /dev/sda reallocated sectors', 'Pool tank scrub finished', 'UPS on battery', 'Certificate renewed', 'Replication task succeeded'];
    for (let i = 0; i < 18; i++) {
      await postroom.api('POST', '/api/v1/messages', { to: i % 7 === 3 ? ['ops@example.com', 'nobody@example.com'] : 'ops@example.com', subject: subjects[i % subjects.length], text: 'details' });
    }
    await sink.waitFor(18);
    // The on-call phone gets pool and disk alerts when mail cannot deliver them.
    const channel = await postroom.api<{ id: string }>('POST', '/api/v1/channels', { type: 'ntfy', name: 'On-call phone', url: phone.url, topic: 'nas01-alerts' });
    await postroom.api('POST', '/api/v1/rules', { name: 'Pool and disk alerts when mail fails', match: { subject: '^(pool|disk)' }, channels: [channel.body.id], when: 'undelivered', afterMinutes: 0 });
    await sink.stop();
    for (const s of ['Pool tank DEGRADED', 'Disk /dev/sdc FAULTED', 'Backup job 7 failed']) await postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', cc: 'storage-team@example.org', subject: s, text: 'x' });
    await postroom.until(async () => (await postroom.api<{ deferred: number }>('GET', '/api/v1/queue/counts')).body.deferred >= 3, 'deferrals');
    const q = await postroom.api<{ items: { id: string }[] }>('GET', '/api/v1/queue');
    await postroom.api('POST', `/api/v1/queue/${q.body.items[0]!.id}/hold`);
    // One of them has waited 75 minutes, as if the relay had been down that long: the queue-age alarm.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(`UPDATE message SET created_at = now() - interval '75 minutes' WHERE id = $1`, [q.body.items[1]!.id]).finally(() => client.end());
    await postroom.until(async () => (await postroom.api<{ items: { details: { kind?: string } }[] }>('GET', '/api/v1/events?level=warning')).body.items.some((e) => e.details.kind === 'queue-age'), 'the alarm');
    browser = await launchBrowser();
    page = await loggedInPage(browser, postroom);
    await page.setViewportSize({ width: 1366, height: 900 }); // an operator's laptop
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await sink.stop();
    await phone.stop();
    await db?.drop();
  });

  const shot = async (url: string, name: string, prepare?: () => Promise<void>) => {
    await page.goto(postroom.baseUrl + url);
    if (prepare) await prepare();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  };

  it('captures every page', async () => {
    await shot('/', 'home');
    await shot('/settings', 'settings');
    await shot('/test-email', 'test-email', async () => {
      await page.getByLabel('Send a test email to').fill('ops@example.com');
      await page.getByRole('button', { name: 'Send test email' }).click();
      await page.getByRole('heading', { name: /Test email/ }).waitFor();
    });
    await shot('/queue', 'queue');
    await shot('/queue/flush', 'flush-queue');
    await shot('/queue/delete', 'delete-queue');
    await shot('/mail-log', 'mail-log');
    await shot('/logs', 'logs');
    const q = await postroom.api<{ items: { id: string }[] }>('GET', '/api/v1/queue?state=deferred');
    await shot(`/messages/${q.body.items[0]!.id}`, 'message');
    await shot('/reports/today', 'report-today');
    await shot('/account', 'account');
    // The dark theme follows the system's preference (prefers-color-scheme).
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('/queue', 'queue-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const anon = await ctx.newPage();
    await anon.goto(postroom.baseUrl + '/login');
    await anon.screenshot({ path: path.join(OUT, 'login.png') });
    await ctx.close();
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const mobile = await phone.newPage();
    await mobile.goto(postroom.baseUrl + '/login');
    await mobile.getByLabel('Admin password').fill(WEB_PASSWORD);
    await mobile.getByRole('button', { name: 'Log in' }).click();
    await mobile.waitForURL(postroom.baseUrl + '/');
    await mobile.screenshot({ path: path.join(OUT, 'home-mobile.png'), fullPage: true });
    await phone.close();
  });
});
