import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { browserPostroom } from '../helpers/browser.js';
import { HttpSink } from '../helpers/http-sink.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { WEB_PASSWORD } from '../helpers/web-session.js';

interface Channel {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  url: string;
  tokenSet: boolean;
  headers: string[];
  template: string | null;
}

interface Rule {
  id: string;
  name: string;
  enabled: boolean;
  position: number;
  match: Record<string, string>;
  channels: string[];
  when: string;
  afterMinutes: number;
}

/** A webhook body of several lines: it must come back from the edit form as it was typed. */
const TEMPLATE = '{\n  "title": {{json subject}},\n  "body": {{json text}}\n}';

/** What must never reach a page: the secret part of a URL, a header value, a token. */
const SECRETS = ['s3cret-path-123', 's3cret-header-456', 's3cret-token-789', 'XXXX-s3cret-slack'];

/**
 * The Channels and Rules pages in Chromium at an operator's 1366×900, against a loopback HTTP
 * service: add a channel, refuse a bad one, test it, route alerts to it with rules, reorder,
 * disable and enable, and a removal refused while a rule uses it; the same forms without
 * JavaScript. No secret is ever in a page.
 */
describe('The Channels and Rules pages in a real browser', () => {
  const sink = new SmtpSink({ starttls: false });
  const hooks = new HttpSink();

  const app = browserPostroom(sink, async (postroom) => {
    await hooks.start();
    await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', fromAddress: 'nas@example.com' });
  });
  afterAll(() => hooks.stop());

  const channels = async () => (await app.postroom.api<{ items: Channel[] }>('GET', '/api/v1/channels')).body.items;
  const rules = async () => (await app.postroom.api<{ items: Rule[] }>('GET', '/api/v1/rules')).body.items;
  /** The rules as the page lists them, in order. */
  const listedRules = (page: Page) => page.locator('table.rule-list tbody .item-name').allTextContents();
  const expectNoSecret = async (page: Page) => {
    const html = await page.content();
    for (const secret of SECRETS) expect(html).not.toContain(secret);
  };

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

  it('adds and tests a webhook, routes alerts to it, reorders, disables and is refused the removal of a channel in use', async () => {
    const page = await logIn();
    await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Channels' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/channels`);
    await page.getByText('No channel yet').waitFor();

    // A webhook: only its own fields are shown; the URL's path and the header value are secrets.
    const add = page.locator('#channel-add');
    expect(await add.getByLabel('Type').inputValue()).toBe('webhook');
    expect(await add.getByLabel('Topic').isVisible()).toBe(false);
    await add.getByLabel('Name').fill('Ops webhook');
    await add.getByLabel('URL').fill(`${hooks.url}/hooks/s3cret-path-123`);
    await add.getByLabel('Extra headers').fill('Authorization: Bearer s3cret-header-456\nX-Env: nas01');
    await add.getByLabel('Body template').fill(TEMPLATE);
    await add.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('Channel Ops webhook (Webhook) added.').waitFor();
    const row = page.locator('table.channel-list tbody tr', { hasText: 'Ops webhook' });
    expect(await row.locator('code.origin').textContent()).toBe(`${hooks.url}/…`);
    expect(await row.textContent()).toContain('headers: Authorization, X-Env');
    await expectNoSecret(page);

    // A bad one: the reasons next to their fields, the name and type kept, no secret sent back.
    await add.getByLabel('Type').selectOption('ntfy');
    expect(await add.getByLabel('Topic').isVisible()).toBe(true);
    expect(await add.getByLabel('Extra headers').isVisible()).toBe(false);
    await add.getByLabel('Name').fill('Phone');
    await add.getByLabel('URL').fill('not a url');
    await add.getByLabel('Token').fill('s3cret-token-789');
    await add.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    expect(await add.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    await expect(page.locator('#f-url-error').textContent()).resolves.toMatch(/http:\/\/ or https:\/\/ URL/);
    expect(await add.getByLabel('Name').getAttribute('aria-invalid')).toBeNull();
    expect(await add.getByLabel('Name').inputValue()).toBe('Phone');
    expect(await add.getByLabel('Type').inputValue()).toBe('ntfy');
    expect(await add.getByLabel('Token').inputValue()).toBe('');
    await expectNoSecret(page);
    expect((await channels()).length).toBe(1);

    // Test it: the service gets the sample alert with the header; then a failure, diagnosed.
    await page.getByRole('button', { name: 'Test channel Ops webhook' }).click();
    await page.getByRole('heading', { name: 'Test notification delivered to Ops webhook' }).waitFor();
    const diagnosis = page.locator('.item-test .diagnosis');
    expect(await diagnosis.textContent()).toContain('HTTP 200');
    expect(hooks.received.at(-1)!.path).toBe('/hooks/s3cret-path-123');
    expect(hooks.received.at(-1)!.headers.authorization).toBe('Bearer s3cret-header-456');
    expect(hooks.json('/hooks')[0]!.title).toBe('Postroom test notification');
    hooks.next({ status: 503, body: 'down for maintenance' });
    await page.getByRole('button', { name: 'Test again' }).click();
    await page.getByRole('heading', { name: 'Test notification to Ops webhook failed' }).waitFor();
    expect(await diagnosis.textContent()).toMatch(/HTTP status\s*503/);
    expect(await diagnosis.textContent()).toContain('down for maintenance');
    await expectNoSecret(page);

    // Rules: one for disks, if still undelivered after 15 minutes.
    await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Rules' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/rules`);
    const rule = page.locator('#rule-add');
    expect(await rule.getByLabel('After (minutes)').isVisible()).toBe(false);
    await rule.getByLabel('Name').fill('Disk alerts');
    await rule.getByLabel('Subject matches').fill('^disk');
    await rule.getByLabel('Severity at least').selectOption('warning');
    await rule.getByLabel('Ops webhook').check();
    await rule.getByLabel('When').selectOption('undelivered');
    await rule.getByLabel('After (minutes)').fill('15');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Rule Disk alerts added (position 1).').waitFor();
    const disk = page.locator('table.rule-list tbody tr', { hasText: 'Disk alerts' });
    expect(await disk.locator('td.conditions').textContent()).toBe('subject matches ^disk, severity ≥ warning');
    expect(await disk.textContent()).toContain('if undelivered after 15 min');
    expect(await disk.textContent()).toContain('Ops webhook');

    // A bad rule: a pattern that may backtrack and no channel, each next to its field; the name kept.
    await rule.getByLabel('Name').fill('Catch all');
    await rule.getByLabel('Subject matches').fill('(a+)+$');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    expect(await rule.getByLabel('Subject matches').getAttribute('aria-invalid')).toBe('true');
    await expect(page.locator('#f-subject-error').textContent()).resolves.toMatch(/backtrack/);
    await page.locator('#f-channels-error').waitFor();
    expect(await rule.getByLabel('Name').inputValue()).toBe('Catch all');
    expect(await rule.getByLabel('Subject matches').inputValue()).toBe('(a+)+$');

    await rule.getByLabel('Subject matches').fill('');
    await rule.getByLabel('Ops webhook').check();
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Rule Catch all added (position 2).').waitFor();
    expect(await page.locator('table.rule-list tbody tr', { hasText: 'Catch all' }).locator('td.conditions').textContent()).toBe('every message');

    // Reorder: the second moves up.
    await page.getByRole('button', { name: 'Move rule Catch all up' }).click();
    await page.getByText('Rule Catch all moved up: now evaluated at position 1.').waitFor();
    expect(await listedRules(page)).toEqual(['Catch all', 'Disk alerts']);
    expect((await rules()).map((r) => [r.name, r.position])).toEqual([
      ['Catch all', 1],
      ['Disk alerts', 2],
    ]);
    expect(await page.getByRole('button', { name: 'Move rule Catch all up' }).count()).toBe(0);

    // Disable and enable.
    await page.getByRole('button', { name: 'Disable rule Disk alerts' }).click();
    await page.getByText('Rule Disk alerts disabled.').waitFor();
    expect((await rules()).find((r) => r.name === 'Disk alerts')?.enabled).toBe(false);
    await page.getByRole('button', { name: 'Enable rule Disk alerts' }).click();
    await page.getByText('Rule Disk alerts enabled.').waitFor();
    expect((await rules()).find((r) => r.name === 'Disk alerts')?.enabled).toBe(true);

    // Edit: "always" hides the minutes, and the rule keeps its conditions.
    await page.getByRole('link', { name: 'Edit rule Disk alerts' }).click();
    const edit = page.locator('#rule-panel');
    await edit.getByRole('heading', { name: 'Edit rule Disk alerts' }).waitFor();
    expect(await edit.getByLabel('Subject matches').inputValue()).toBe('^disk');
    expect(await edit.getByLabel('After (minutes)').inputValue()).toBe('15');
    await edit.getByLabel('When').selectOption('always');
    expect(await edit.getByLabel('After (minutes)').isVisible()).toBe(false);
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Rule Disk alerts saved.').waitFor();
    const saved = (await rules()).find((r) => r.name === 'Disk alerts')!;
    expect([saved.when, saved.afterMinutes, saved.match]).toEqual(['always', 0, { subject: '^disk', severity: 'warning' }]);

    // The channel cannot go while rules send to it: the confirmation says which.
    await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Channels' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/channels`);
    expect(await page.locator('table.channel-list tbody tr', { hasText: 'Ops webhook' }).textContent()).toContain('Disk alerts');
    await page.getByRole('link', { name: 'Remove channel Ops webhook' }).click();
    await page.getByRole('heading', { name: 'Remove the channel Ops webhook?' }).waitFor();
    await page.getByRole('button', { name: 'Remove Ops webhook' }).click();
    const refusal = page.locator('#channel-panel .error-summary');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/Not removed\..*used by the rules “Catch all”, “Disk alerts”/);
    expect((await channels()).length).toBe(1);

    // Editing keeps what is left empty: the URL and the headers.
    await page.getByRole('link', { name: 'Edit channel Ops webhook' }).click();
    const channelEdit = page.locator('#channel-panel');
    await channelEdit.getByText(`Stored: ${hooks.url}/…`).waitFor();
    expect(await channelEdit.getByLabel('URL').inputValue()).toBe('');
    await channelEdit.getByLabel('Name').fill('Ops hook');
    await channelEdit.getByRole('button', { name: 'Save channel' }).click();
    await page.getByText('Channel Ops hook saved.').waitFor();
    expect((await channels()).map((c) => [c.name, c.url, c.headers, c.template])).toEqual([['Ops hook', `${hooks.url}/…`, ['Authorization', 'X-Env'], TEMPLATE]]);
    await expectNoSecret(page);

    const events = await app.postroom.api<{ items: { message: string }[] }>('GET', '/api/v1/events?limit=30');
    expect(events.body.items.map((e) => e.message)).toEqual(expect.arrayContaining(['Channel Ops webhook (webhook) added by admin', 'Rule Catch all added by admin']));

    // The Catch all rule copies an alert to the hook; the Mail Log lists that channel's lines by its name.
    const posted = hooks.received.length;
    await app.postroom.api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'UPS on battery', text: 'runtime 12 min' });
    await hooks.until(posted + 1);
    const id = (await channels())[0]!.id;
    await app.postroom.until(async () => (await app.postroom.api<{ items: unknown[] }>('GET', `/api/v1/mail-log?event=sent&kind=channel:${id}`)).body.items.length > 0, 'the post in the mail log');
    await page.getByRole('navigation', { name: 'SMTP' }).getByRole('link', { name: 'Mail Log' }).click();
    await page.getByLabel('Lines').selectOption({ label: 'Channel: Ops hook' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(new RegExp(`kind=channel(%3A|:)${id}\\b`));
    const recipients = await page.locator('#log-results ul.rcpts li').allTextContents();
    expect(recipients.length).toBeGreaterThan(0);
    expect(new Set(recipients.map((t) => t.trim()))).toEqual(new Set([`channel:${id}`]));
    await page.context().close();
  }, 90_000);

  it('works without JavaScript: every field shown, a 303 back with the message, errors next to their fields', async () => {
    const page = await logIn(false);
    await page.goto(`${app.postroom.baseUrl}/channels`);
    const add = page.locator('#channel-add');
    expect(await add.getByLabel('Topic').isVisible()).toBe(true);
    expect(await add.getByLabel('Extra headers').isVisible()).toBe(true);

    // Gotify needs its token: the service says so next to the field.
    await add.getByLabel('Type').selectOption('gotify');
    await add.getByLabel('Name').fill('Gotify');
    await add.getByLabel('URL').fill('https://gotify.example.com');
    await add.getByRole('button', { name: 'Add channel' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    await expect(page.locator('#f-token-error').textContent()).resolves.toBe('is required for a gotify channel');
    expect(await add.getByLabel('Name').inputValue()).toBe('Gotify');

    await add.getByLabel('Type').selectOption('slack');
    await add.getByLabel('Name').fill('Team chat');
    await add.getByLabel('URL').fill(`${hooks.url}/services/T0/B0/XXXX-s3cret-slack`);
    await add.getByRole('button', { name: 'Add channel' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/channels#channels`);
    await page.getByText('Channel Team chat (Slack) added.').waitFor();
    await expectNoSecret(page);

    await page.getByRole('button', { name: 'Test channel Team chat' }).click();
    await page.getByRole('heading', { name: 'Test notification delivered to Team chat' }).waitFor();
    expect(hooks.received.at(-1)!.path).toBe('/services/T0/B0/XXXX-s3cret-slack');
    await page.goto(`${app.postroom.baseUrl}/channels`);
    await page.getByRole('button', { name: 'Disable channel Team chat' }).click();
    await page.getByText('Channel Team chat disabled.').waitFor();
    expect((await channels()).find((c) => c.name === 'Team chat')?.enabled).toBe(false);

    await page.goto(`${app.postroom.baseUrl}/rules`);
    const rule = page.locator('#rule-add');
    expect(await rule.getByLabel('After (minutes)').isVisible()).toBe(true);
    await rule.getByLabel('Name').fill('Chat copy');
    await rule.getByLabel('Client network').fill('10.0.0.0/33');
    await rule.getByLabel('Team chat').check();
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.getByText('Nothing was saved.').waitFor();
    expect(await rule.getByLabel('Client network').getAttribute('aria-invalid')).toBe('true');
    expect(await rule.getByLabel('Team chat').isChecked()).toBe(true);
    await rule.getByLabel('Client network').fill('10.0.0.0/8');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.waitForURL(`${app.postroom.baseUrl}/rules#rules`);
    await page.getByText(/Rule Chat copy added \(position \d\)\./).waitFor();
    expect(await page.locator('table.rule-list tbody tr', { hasText: 'Chat copy' }).textContent()).toMatch(/client in 10\.0\.0\.0\/8[\s\S]*Team chat \(disabled\)/);

    await page.getByRole('link', { name: 'Remove rule Chat copy' }).click();
    await page.getByRole('heading', { name: 'Remove the rule Chat copy?' }).waitFor();
    await page.getByRole('button', { name: 'Remove Chat copy' }).click();
    await page.getByText('Rule Chat copy removed.').waitFor();
    expect((await rules()).some((r) => r.name === 'Chat copy')).toBe(false);

    await page.goto(`${app.postroom.baseUrl}/channels`);
    await page.getByRole('link', { name: 'Remove channel Team chat' }).click();
    await page.getByRole('button', { name: 'Remove Team chat' }).click();
    await page.getByText('Channel Team chat removed.').waitFor();
    expect((await channels()).some((c) => c.name === 'Team chat')).toBe(false);
    await page.context().close();
  }, 90_000);
});
