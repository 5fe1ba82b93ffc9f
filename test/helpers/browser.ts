import { existsSync } from 'node:fs';
import { Browser, Page, chromium } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase } from './db.js';
import { PostroomProcess } from './postroom-process.js';
import type { SmtpSink } from './smtp-sink.js';
import { WEB_PASSWORD } from './web-session.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, driven by playwright-core (never a browser download). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new page logged in to the dashboard (ADMIN_PASSWORD = WEB_PASSWORD). */
export async function loggedInPage(browser: Browser, postroom: PostroomProcess): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(`${postroom.baseUrl}/`);
  await page.getByLabel('Admin password').fill(WEB_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${postroom.baseUrl}/`);
  return page;
}

/**
 * The compiled Postroom on a database of its own (ADMIN_PASSWORD = WEB_PASSWORD), a loopback
 * sink started first, `setup` run on it, and Debian's Chromium: started before the calling
 * file's tests (in its describe block), all stopped after them.
 */
export function browserPostroom(sink: SmtpSink, setup: (postroom: PostroomProcess) => Promise<void> = async () => undefined): { postroom: PostroomProcess; browser: Browser } {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const fixture = { postroom: undefined as unknown as PostroomProcess, browser: undefined as unknown as Browser };
  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    fixture.postroom = await new PostroomProcess({ databaseUrl: db.url, env: { ADMIN_PASSWORD: WEB_PASSWORD } }).start();
    await setup(fixture.postroom);
    fixture.browser = await launchBrowser();
  });
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });
  return fixture;
}
