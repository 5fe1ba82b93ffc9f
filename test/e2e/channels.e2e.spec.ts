import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSink } from '../helpers/http-sink.js';
import { Page, events, mailLog, submitSmtp } from './api.js';
import { relayingPostroom } from './relaying-postroom.js';

interface Channel {
  id: string;
  name: string;
  type: string;
  enabled: boolean;
  url: string;
  tokenSet: boolean;
  topicSet: boolean;
  headers: string[];
  template: string | null;
}

interface Invalid {
  message: string;
  fields: Record<string, string>;
}

/**
 * Channels and rules on the real app: an HTTP service on loopback stands for the webhook, ntfy
 * and gotify servers, an SMTP sink for the relay. The tests run in order and build on each other.
 */
describe('notification channels and routing rules', () => {
  const app = relayingPostroom({ settings: { fromAddress: 'nas@example.com' } });
  const http = new HttpSink();
  const token = 'tk_' + Math.random().toString(36).slice(2) + 'SECRET';
  const hookKey = 'hook-' + Math.random().toString(36).slice(2) + '-KEY';
  let webhook: Channel;
  let ntfy: Channel;

  beforeAll(async () => {
    await http.start();
  });
  afterAll(async () => {
    await http.stop();
  });

  const api = <T>(method: string, path: string, body?: unknown) => app.postroom.api<T>(method, path, body);
  const linesOf = async (queueId: string) => (await mailLog(app.postroom, `queueId=${queueId}`)).sort((a, b) => a.at.localeCompare(b.at) || Number(a.id) - Number(b.id));

  it('adds channels with their secrets write-only, and refuses bad ones with one reason per field', async () => {
    const created = await api<Channel>('POST', '/api/v1/channels', {
      type: 'webhook',
      name: 'Ops webhook',
      url: `${http.url}/hooks/${hookKey}`,
      headers: { 'X-Api-Key': token },
      template: '{"title": {{json subject}}, "sev": {{json severity}}, "id": {{json queueId}}, "to": {{json to}}}',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    webhook = created.body;
    expect(webhook).toMatchObject({ type: 'webhook', name: 'Ops webhook', enabled: true, url: `${http.url}/…`, headers: ['X-Api-Key'], tokenSet: false });

    const n = await api<Channel>('POST', '/api/v1/channels', { type: 'ntfy', name: 'Phone', url: `${http.url}/ntfy`, topic: 'nas-alerts', token });
    expect(n.status, JSON.stringify(n.body)).toBe(201);
    ntfy = n.body;
    expect(ntfy).toMatchObject({ type: 'ntfy', tokenSet: true, topicSet: true, url: `${http.url}/…` });

    const bad = await api<Invalid>('POST', '/api/v1/channels', { type: 'pager', name: '', url: 'ftp://x', template: '{{#if}}' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['name', 'template', 'type', 'url']);
    const noTopic = await api<Invalid>('POST', '/api/v1/channels', { type: 'ntfy', name: 'No topic', url: http.url });
    expect(noTopic.body.fields).toEqual({ topic: 'is required for a ntfy channel' });
    const notJson = await api<Invalid>('POST', '/api/v1/channels', { type: 'webhook', name: 'Text', url: http.url, template: 'Alert: {{subject}}' });
    expect(notJson.body.fields.template).toMatch(/JSON/);
    const foreign = await api<Invalid>('POST', '/api/v1/channels', { type: 'slack', name: 'Slack', url: http.url, token: 'x' });
    expect(foreign.body.fields).toEqual({ token: 'is not a field of a slack channel' });
    const twice = await api<Invalid>('POST', '/api/v1/channels', { type: 'slack', name: 'ops WEBHOOK', url: http.url });
    expect(twice.body.fields).toEqual({ name: 'is taken by another channel' });
    // What an HTTP header cannot carry (every post would fail, as a network failure, for the whole lifetime).
    const unicode = await api<Invalid>('POST', '/api/v1/channels', { type: 'webhook', name: 'Unicode', url: http.url, headers: { 'X-Note': 'café ✓' } });
    expect(unicode.body.fields).toEqual({ headers: 'must be Latin-1 text (an HTTP header cannot carry other characters)' });
    const unicodeToken = await api<Invalid>('POST', '/api/v1/channels', { type: 'gotify', name: 'Gotify', url: http.url, token: 'tök✓' });
    expect(unicodeToken.body.fields).toEqual({ token: 'must be Latin-1 text (an HTTP header cannot carry other characters)' });
    expect((await api<Page<Channel>>('GET', '/api/v1/channels')).body.items.map((c) => c.name)).toEqual(['Ops webhook', 'Phone']);
  });

  it('keeps a token from following the URL to another origin', async () => {
    const moved = await api<Invalid>('PUT', `/api/v1/channels/${ntfy.id}`, { url: 'http://127.0.0.2:9/ntfy' });
    expect(moved.status).toBe(400);
    expect(moved.body.fields).toMatchObject({ token: expect.stringMatching(/enter it again/), topic: expect.stringMatching(/enter it again/) });
    const renamed = await api<Channel>('PUT', `/api/v1/channels/${ntfy.id}`, { name: 'Phone (ntfy)' });
    expect(renamed.body).toMatchObject({ name: 'Phone (ntfy)', tokenSet: true, topicSet: true });
  });

  it('tests a channel at once and says what the service answered', async () => {
    const ok = await api<{ ok: boolean; step: string; code: number; reply: string; ms: number }>('POST', `/api/v1/channels/${webhook.id}/test`);
    expect(ok.body).toMatchObject({ ok: true, step: 'response', code: 200 });
    const got = http.received.at(-1)!;
    expect(got.path).toBe(`/hooks/${hookKey}`);
    expect(got.headers['x-api-key']).toBe(token);
    expect(JSON.parse(got.body)).toMatchObject({ title: expect.stringMatching(/test/i), sev: 'info' });

    http.next({ status: 404, body: 'no such hook' });
    const failed = await api<{ ok: boolean; step: string; code: number; reply: string }>('POST', `/api/v1/channels/${webhook.id}/test`);
    expect(failed.body).toMatchObject({ ok: false, step: 'response', code: 404, reply: expect.stringContaining('no such hook') });

    // A service that repeats a secret (ntfy's answer names the topic, an echo service the headers and path): shown without it.
    http.next({ status: 200, body: JSON.stringify({ echoed: { 'x-api-key': token, path: `/hooks/${hookKey}` } }) });
    const echo = await api<{ ok: boolean; reply: string }>('POST', `/api/v1/channels/${webhook.id}/test`);
    expect(echo.body.ok).toBe(true);
    expect(echo.body.reply).toMatch(/^HTTP 200 OK: \{"echoed":\{"x-api-key":"…","path":"…"\}\}$/);
    http.next({ status: 200, body: JSON.stringify({ id: 'abc', event: 'message', topic: 'nas-alerts', message: 'test' }) });
    const ntfyEcho = await api<{ ok: boolean; reply: string }>('POST', `/api/v1/channels/${ntfy.id}/test`);
    expect(ntfyEcho.body.reply).toContain('"topic":"…"');
    expect(ntfyEcho.body.reply).not.toContain('nas-alerts');
  });

  it('refuses a bad rule with one reason per field, a catastrophic pattern included', async () => {
    const bad = await api<Invalid>('POST', '/api/v1/rules', { name: 'Bad', match: { subject: '(a+)+$', sender: '([', client: '10.0.0.0/33', colour: 'red' }, channels: ['999'], when: 'always' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.fields).sort()).toEqual(['match.client', 'match.colour', 'match.sender', 'match.subject']);
    const noChannel = await api<Invalid>('POST', '/api/v1/rules', { name: 'Nowhere', channels: ['999'], when: 'always' });
    expect(noChannel.body.fields).toEqual({ channels: 'no such channel: 999' });
    for (const channels of [[99999999999], ['9999999999'], [2147483648]]) {
      const huge = await api<Invalid>('POST', '/api/v1/rules', { name: 'Huge', channels, when: 'always' });
      expect(huge.status, JSON.stringify(channels)).toBe(400);
      expect(Object.keys(huge.body.fields)).toEqual(['channels']);
    }
    const mixed = await api<Invalid>('POST', '/api/v1/rules', { name: 'Mixed', channels: [webhook.id], when: 'always', afterMinutes: 5 });
    expect(mixed.body.fields).toEqual({ afterMinutes: 'is only for when: undelivered' });
    expect((await api<Page<unknown>>('GET', '/api/v1/rules')).body.items).toEqual([]);
  });

  it('copies an alert a rule matches to its channels beside the mail, and leaves the others alone', async () => {
    const rule = await api<{ id: string; position: number }>('POST', '/api/v1/rules', { name: 'Disk alerts', match: { subject: '^disk ' }, channels: [webhook.id], when: 'always' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body.position).toBe(1);
    const before = http.received.length;
    const sinkBefore = app.sink.messages.length;

    const other = await submitSmtp(app.postroom, { from: 'cron@nas.example.com', to: 'ops@example.com', subject: 'Backup finished', text: 'ok' });
    const id = await submitSmtp(app.postroom, { from: 'smartd@nas.example.com', to: 'ops@example.com', subject: 'DISK /dev/sda failing', text: 'Reallocated sectors: 8' });
    await app.sink.waitFor(sinkBefore + 2);
    await http.until(before + 1);
    expect(JSON.parse(http.received.at(-1)!.body)).toEqual({ title: 'DISK /dev/sda failing', sev: 'info', id, to: ['ops@example.com'] });

    const lines = await app.postroom.until(async () => {
      const l = await linesOf(id);
      return l.filter((x) => x.event === 'sent').length === 2 ? l : undefined;
    }, 'both deliveries in the mail log');
    expect(lines.filter((l) => l.event === 'sent').map((l) => [l.to, l.relay]).sort()).toEqual([[`channel:${webhook.id}`, 'Ops webhook'], ['ops@example.com', expect.stringContaining('127.0.0.1')]].sort());
    expect((await linesOf(other)).some((l) => l.relay === 'Ops webhook')).toBe(false);
    expect(http.received.length).toBe(before + 1);
  });

  it('tries a channel again after a 503 (honouring Retry-After) and bounces it on a 404 with the reply', async () => {
    http.next({ status: 503, body: 'busy', headers: { 'retry-after': '1' } });
    const before = http.received.length;
    const id = await submitSmtp(app.postroom, { from: 'smartd@nas.example.com', to: 'ops@example.com', subject: 'disk sdb temperature', text: '61 C' });
    await http.until(before + 2);
    expect(http.received[before + 1]!.at - http.received[before]!.at).toBeGreaterThanOrEqual(900);
    const lines = await app.postroom.until(async () => {
      const l = (await linesOf(id)).filter((x) => x.relay === 'Ops webhook');
      return l.some((x) => x.event === 'sent') ? l : undefined;
    }, 'the channel delivered after its 503');
    expect(lines.map((l) => [l.event, l.attempt])).toEqual([['deferred', 1], ['sent', 2]]);
    expect(lines[0]!.reply).toMatch(/^HTTP 503.*busy/);

    http.next({ status: 404, body: 'unknown hook' });
    const sinkBefore = app.sink.messages.length;
    const gone = await submitSmtp(app.postroom, { from: 'smartd@nas.example.com', to: 'ops@example.com', subject: 'disk sdc removed', text: 'gone' });
    const bounced = await app.postroom.until(async () => (await linesOf(gone)).find((x) => x.relay === 'Ops webhook' && x.event === 'bounced'), 'the bounce');
    expect(bounced.reply).toMatch(/^HTTP 404.*unknown hook/);
    await app.sink.waitFor(sinkBefore + 1);
    await new Promise((r) => setTimeout(r, 500));
    // The mail went out; no bounce notice about the channel went to the sender.
    expect(app.sink.messages.slice(sinkBefore).map((m) => m.to)).toEqual([['ops@example.com']]);

    // Metrics count the channel's outcomes apart: the recipient counters are mail's alone.
    const sent = await mailLog(app.postroom, 'event=sent');
    const metrics = await (await fetch(`${app.postroom.baseUrl}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(value('postroom_channel_posts_total{outcome="sent"}')).toBe(sent.filter((l) => l.to.startsWith('channel:')).length);
    expect(value('postroom_channel_posts_total{outcome="deferred"}')).toBe(1);
    expect(value('postroom_channel_posts_total{outcome="bounced"}')).toBe(1);
    expect(value('postroom_recipients_delivered_total')).toBe(sent.filter((l) => !l.to.startsWith('channel:')).length);

    // The mail log tells the two kinds of line apart, for the API as for the dashboard's links.
    const channelLines = await mailLog(app.postroom, 'event=sent&kind=channel');
    const mailLines = await mailLog(app.postroom, 'event=sent&kind=mail');
    expect(channelLines.length).toBeGreaterThan(0);
    expect(channelLines.every((l) => l.to.startsWith('channel:'))).toBe(true);
    expect(mailLines.some((l) => l.to.startsWith('channel:'))).toBe(false);
    expect(channelLines.length + mailLines.length).toBe(sent.length);
    const webhookLines = await mailLog(app.postroom, `event=sent&kind=channel:${webhook.id}`);
    expect(webhookLines.length).toBeGreaterThan(0);
    expect(webhookLines.every((l) => l.to === `channel:${webhook.id}`)).toBe(true);
    for (const kind of ['phone', 'channel:0', 'channel:01']) {
      const bad = await api<Invalid>('GET', `/api/v1/mail-log?kind=${kind}`);
      expect(bad.status).toBe(400);
      expect(bad.body.fields).toEqual({ kind: 'must be mail, channel or channel:<id>' });
    }
  });

  it('gives ntfy the priority of the alert’s severity', async () => {
    const rule = await api('POST', '/api/v1/rules', { name: 'UPS to the phone', match: { subject: '^ups', severity: 'warning' }, channels: [ntfy.id], when: 'always' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const before = http.received.length;
    await api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'UPS on battery', text: 'runtime 12 min', severity: 'critical' });
    await api('POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'UPS self-test passed', text: 'ok', severity: 'info' });
    await http.until(before + 1);
    await new Promise((r) => setTimeout(r, 1000));
    const posted = http.received.slice(before);
    expect(posted.map((p) => p.path)).toEqual(['/ntfy/']);
    expect(posted[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(JSON.parse(posted[0]!.body)).toMatchObject({ topic: 'nas-alerts', title: 'UPS on battery', priority: 5 });
  });

  it('sends an undelivered alert to the channel when the relay is down, and not while mail works', async () => {
    const rule = await api<{ id: string }>('POST', '/api/v1/rules', { name: 'Pool alerts if mail fails', match: { subject: '^pool' }, channels: [ntfy.id], when: 'undelivered', afterMinutes: 0, position: 1 });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect((await api<Page<{ name: string }>>('GET', '/api/v1/rules')).body.items.map((r) => r.name)).toEqual(['Pool alerts if mail fails', 'Disk alerts', 'UPS to the phone']);

    const before = http.received.length;
    const sinkBefore = app.sink.messages.length;
    const fine = await submitSmtp(app.postroom, { from: 'zed@nas.example.com', to: 'ops@example.com', subject: 'pool tank scrub finished', text: 'ok' });
    await app.sink.waitFor(sinkBefore + 1);
    await app.postroom.until(async () => (await linesOf(fine)).some((l) => l.event === 'sent'), 'the mail sent');

    await app.sink.stop();
    try {
      const failing = await submitSmtp(app.postroom, { from: 'zed@nas.example.com', to: 'ops@example.com', subject: 'pool tank DEGRADED', text: 'sdb faulted' });
      await http.until(before + 1);
      expect(http.received.slice(before).map((r) => JSON.parse(r.body).title)).toEqual(['pool tank DEGRADED']);
      const lines = await app.postroom.until(async () => {
        const l = await linesOf(failing);
        return l.some((x) => x.relay === 'Phone (ntfy)' && x.event === 'sent') ? l : undefined;
      }, 'the channel delivery');
      expect(lines.find((l) => l.to === 'ops@example.com' && l.event === 'deferred')).toBeDefined();
      const escalated = await events(app.postroom, 'level=warning');
      expect(escalated.some((e) => e.message === `Mail did not deliver message ${failing}: sent to Phone (ntfy) by rule Pool alerts if mail fails`)).toBe(true);
    } finally {
      await app.sink.start();
    }
  });

  it('loses nothing when killed while a channel delivery is in flight: the restarted instance posts it again', async () => {
    const slow = await api<Channel>('POST', '/api/v1/channels', { type: 'slack', name: 'Slow chat', url: `${http.url}/slow/${hookKey}` });
    expect(slow.status, JSON.stringify(slow.body)).toBe(201);
    expect((await api('POST', '/api/v1/rules', { name: 'RAID to chat', match: { subject: '^raid' }, channels: [slow.body.id], when: 'always' })).status).toBe(201);
    const isSlow = (r: { path: string }) => r.path.startsWith('/slow/');
    http.answerWith((r) => (isSlow(r) && http.received.filter(isSlow).length === 1 ? { status: 200, body: 'ok', delayMs: 5_000 } : { status: 200, body: 'ok' }));
    const id = await submitSmtp(app.postroom, { from: 'mdadm@nas.example.com', to: 'ops@example.com', subject: 'RAID md0 degraded', text: 'sdb1 failed' });
    await app.postroom.until(async () => http.received.some(isSlow), 'the channel request in flight');
    await app.postroom.stop('SIGKILL');
    await app.postroom.start();
    const sent = await app.postroom.until(async () => (await linesOf(id)).find((l) => l.relay === 'Slow chat' && l.event === 'sent'), 'the channel delivered after the restart', 30_000);
    expect(sent.to).toBe(`channel:${slow.body.id}`);
    expect(http.received.filter(isSlow).length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(http.received.filter(isSlow).at(-1)!.body).text).toContain('RAID md0 degraded');
  }, 60_000);

  it('never shows a secret in an answer, an event or the log', async () => {
    const answers = JSON.stringify([
      (await api('GET', '/api/v1/channels')).body,
      (await api('GET', `/api/v1/channels/${ntfy.id}`)).body,
      (await api('GET', '/api/v1/events?limit=500')).body,
      (await api('GET', '/api/v1/mail-log?limit=500')).body,
    ]);
    for (const secret of [token, hookKey, 'nas-alerts']) {
      expect(answers).not.toContain(secret);
      expect(app.postroom.output).not.toContain(secret);
    }
  });

  it('refuses to remove a channel a rule sends to (409), and removes it once no rule does', async () => {
    const used = await api<{ message: string }>('DELETE', `/api/v1/channels/${webhook.id}`);
    expect(used.status).toBe(409);
    expect(used.body.message).toMatch(/Disk alerts/);
    const rules = (await api<Page<{ id: string; channels: string[] }>>('GET', '/api/v1/rules')).body.items;
    for (const r of rules.filter((x) => x.channels.includes(webhook.id))) expect((await api('DELETE', `/api/v1/rules/${r.id}`)).status).toBe(200);
    expect((await api('DELETE', `/api/v1/channels/${webhook.id}`)).status).toBe(200);
    expect((await api<Page<{ position: number }>>('GET', '/api/v1/rules')).body.items.map((r) => r.position)).toEqual([1, 2, 3]);
  });
});
