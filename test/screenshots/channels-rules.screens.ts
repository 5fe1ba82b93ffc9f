import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, loggedInPage } from '../helpers/browser.js';
import { createTestDatabase } from '../helpers/db.js';
import { HttpSink } from '../helpers/http-sink.js';
import { PostroomProcess, ROOT } from '../helpers/postroom-process.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

const OUT = path.join(ROOT, 'docs', 'screenshots');

/** The Channels page (after a test of the webhook) and the Rules page, with an appliance's channels and rules, at 1366×900. */
describe('channels and rules screenshots', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let browser: Browser;
  let page: Page;
  const hooks = new HttpSink();

  beforeAll(async () => {
    db = await createTestDatabase();
    await hooks.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: 'smtp.example.com', relayPort: 587, security: 'starttls', fromAddress: 'nas01@example.com', hostname: 'nas01.example.com' });
    const add = async (body: Record<string, unknown>) => (await postroom.api<{ id: string }>('POST', '/api/v1/channels', body)).body.id;
    const webhook = await add({ type: 'webhook', name: 'Monitoring webhook', url: `${hooks.url}/api/alerts/7f3c9a`, headers: { Authorization: 'Bearer 0123456789abcdef', 'X-Source': 'nas01' } });
    const phone = await add({ type: 'ntfy', name: 'On-call phone', url: 'https://ntfy.sh', topic: 'nas01-alerts-5d1e', token: 'tk_2b7f0c1d9e' });
    const slack = await add({ type: 'slack', name: 'Storage team', url: 'https://hooks.slack.com/services/T024BE7LD/B08ABC1234/k9X2mQ7pL0vR' });
    await add({ type: 'gotify', name: 'Home Gotify', url: 'https://gotify.home.example.net', token: 'AbCdEf.123', enabled: false });
    const rule = (body: Record<string, unknown>) => postroom.api('POST', '/api/v1/rules', body);
    await rule({ name: 'Disk and pool failures', match: { subject: '(smart|disk|degraded|faulted)', severity: 'warning' }, channels: [phone, webhook], when: 'always' });
    await rule({ name: 'Backups not delivered', match: { subject: '^backup', sender: '^root@' }, channels: [slack], when: 'undelivered', afterMinutes: 30 });
    await rule({ name: 'Anything critical', match: { severity: 'critical' }, channels: [phone], when: 'undelivered', afterMinutes: 0 });
    await rule({ name: 'Lab network', match: { client: '192.168.50.0/24' }, channels: [webhook], when: 'always', enabled: false });
    browser = await launchBrowser();
    page = await loggedInPage(browser, postroom);
    await page.setViewportSize({ width: 1366, height: 900 }); // an operator's laptop
  });

  afterAll(async () => {
    await browser?.close();
    await postroom?.dispose();
    await hooks.stop();
    await db?.drop();
  });

  it('captures the Channels and Rules pages', async () => {
    await page.goto(`${postroom.baseUrl}/channels`);
    await page.getByRole('button', { name: 'Test channel Monitoring webhook' }).click();
    await page.getByRole('heading', { name: /Test notification/ }).waitFor();
    await page.screenshot({ path: path.join(OUT, 'channels.png'), fullPage: true });
    await page.goto(`${postroom.baseUrl}/rules`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(OUT, 'rules.png'), fullPage: true });
  });
});
