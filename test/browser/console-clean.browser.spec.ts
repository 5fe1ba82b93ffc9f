import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPostroom, loggedInPage } from '../helpers/browser.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

/** How long a live page may take to refresh itself (the home page and the queue every 5 s, a message every 10 s), on a busy machine too. */
const LIVE_WITHIN_MS = 40_000;

interface Problem {
  url: string;
  what: string;
}

/**
 * Watches a browser context for what the Content-Security-Policy refuses (the page's
 * securitypolicyviolation events, reported through a binding that the CSP does not govern, and
 * Chromium's console messages about it) and for uncaught errors.
 */
async function watch(context: BrowserContext): Promise<{ csp: Problem[]; errors: Problem[] }> {
  const found = { csp: [] as Problem[], errors: [] as Problem[] };
  await context.exposeBinding('reportViolation', ({ page }, what: string) => void found.csp.push({ url: page.url(), what }));
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { reportViolation(what: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    }),
  );
  const follow = (page: Page) => {
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) found.csp.push({ url: page.url(), what: m.text() });
    });
    page.on('pageerror', (e) => found.errors.push({ url: page.url(), what: e.message }));
    page.on('dialog', (d) => void d.accept());
  };
  context.pages().forEach(follow);
  context.on('page', follow);
  return found;
}

/**
 * Every page of the dashboard in Chromium with the strict CSP (no inline script or style, no
 * eval): opened, used (a settings save, a test email, a queue action, a filter), and watched
 * long enough on the live pages for their refresh to run. Nothing may be refused.
 */
describe('Every dashboard page runs without a CSP violation', () => {
  const sink = new SmtpSink({ starttls: false, rcptReply: (a) => (a.startsWith('later') ? { code: 450, message: '4.7.1 try again later' } : undefined) });

  const app = browserPostroom(sink, async (postroom) => {
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas@example.com' });
    for (const to of ['ops@example.com', 'later@example.com', 'later2@example.com']) await postroom.api('POST', '/api/v1/messages', { to, subject: `For ${to}`, text: 'x' });
    await postroom.until(async () => (await postroom.api<{ deferred: number }>('GET', '/api/v1/queue/counts')).body.deferred === 2, 'two deferred messages');
  });

  it('opens, uses and watches every page, the login too, with no CSP violation and no script error', async () => {
    const anonymous = await app.browser.newContext();
    const seen = await watch(anonymous);
    const login = await anonymous.newPage();
    await login.goto(`${app.postroom.baseUrl}/login`);
    await login.getByLabel('Admin password').fill('not the password');
    await login.getByRole('button', { name: 'Log in' }).click();
    await login.getByText('Wrong password.').waitFor();
    await anonymous.close();

    const page = await loggedInPage(app.browser, app.postroom);
    const found = await watch(page.context());
    const open = async (path: string, stay = 500) => {
      await page.goto(app.postroom.baseUrl + path);
      await page.waitForTimeout(stay);
    };
    const liveRequests: string[] = [];
    page.on('request', (r) => {
      if (r.headers()['hx-request'] === 'true' && r.method() === 'GET') liveRequests.push(new URL(r.url()).pathname);
    });
    /** Opens a live page and stays until it has refreshed itself `times` times from `from`. */
    const watchLive = async (path: string, from: string, times = 1) => {
      const before = liveRequests.filter((p) => p === from).length;
      await open(path, 0);
      await expect.poll(() => liveRequests.filter((p) => p === from).length - before, { timeout: LIVE_WITHIN_MS, interval: 250 }).toBeGreaterThanOrEqual(times);
    };

    await watchLive('/', '/dashboard/status');

    await open('/settings');
    await page.getByLabel('From name').fill('NAS 7');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/Settings saved/).waitFor();
    await page.getByLabel('Relay port').fill('99999');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Nothing was saved.').waitFor();

    await open('/test-email');
    await page.getByLabel('Send a test email to').fill('ops@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('heading', { name: /Test email/ }).waitFor();

    await watchLive('/queue', '/queue', 2);
    await page.getByRole('button', { name: /^Hold message/ }).first().click();
    await page.getByText(/put on hold\./).waitFor();

    await open('/queue/flush');
    await open('/queue/delete');
    await open('/mail-log');
    await page.getByLabel('Status').selectOption('deferred');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/event=deferred/);
    await open('/logs');

    const deferred = await app.postroom.api<{ items: { id: string }[] }>('GET', '/api/v1/queue?state=deferred');
    const story = `/messages/${deferred.body.items[0]!.id}`;
    await watchLive(story, story); // the message page refreshes itself

    await open('/reports/today');
    await open('/reports/yesterday');
    await open('/account');

    await open('/relays');
    await page.getByRole('link', { name: /^Test relay/ }).first().click();
    await page.getByLabel('Send a test email to').fill('ops@example.com');
    await page.getByRole('button', { name: 'Send test email' }).click();
    await page.getByRole('heading', { name: /Test email/ }).waitFor();
    await open('/relays');
    await page.locator('#relay-add').getByLabel('Host').fill('backup.example.com');
    await page.locator('#relay-add').getByLabel('Port').fill('99999');
    await page.getByRole('button', { name: 'Add relay' }).click();
    await page.getByText('Nothing was saved.').waitFor();

    await open('/channels');
    const channel = page.locator('#channel-add');
    await channel.getByLabel('Type').selectOption('ntfy');
    await channel.getByLabel('Name').fill('Phone');
    await channel.getByLabel('URL').fill('https://ntfy.example.com');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    await open('/rules');
    await page.locator('#rule-add').getByLabel('Name').fill('Disks');
    await page.locator('#rule-add').getByLabel('When').selectOption('undelivered');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Nothing was saved.').waitFor();

    expect([...seen.csp, ...found.csp]).toEqual([]);
    expect([...seen.errors, ...found.errors]).toEqual([]);
    await page.context().close();
  }, 180_000);

  it('answers /favicon.ico with an icon, without a login, and links an SVG icon from every layout', async () => {
    const ico = await fetch(`${app.postroom.baseUrl}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)/);
    expect([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0]); // the ICO header

    const svg = await fetch(`${app.postroom.baseUrl}/assets/favicon.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);

    const page = await loggedInPage(app.browser, app.postroom);
    const icons = () => page.locator('link[rel="icon"]').evaluateAll((links) => links.map((l) => (l as HTMLLinkElement).href));
    expect(await icons()).toEqual([`${app.postroom.baseUrl}/favicon.ico`, `${app.postroom.baseUrl}/assets/favicon.svg`]);
    await page.context().close();
    const anonymous = await app.browser.newPage();
    await anonymous.goto(`${app.postroom.baseUrl}/login`);
    expect(await anonymous.locator('link[rel="icon"]').count()).toBe(2);
    await anonymous.close();
  });
});
