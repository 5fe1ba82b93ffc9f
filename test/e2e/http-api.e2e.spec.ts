import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { newQueueId } from '../../src/queue/queue-id.js';
import { mailLog, queue } from './api.js';

interface ErrorBody {
  statusCode: number;
  message: string;
  fields?: Record<string, string>;
}

describe('JSON API: authentication, POST /api/v1/messages', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  const raw = (method: string, urlPath: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(postroom.baseUrl + urlPath, { method, headers, body });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: sink.port, security: 'none', authEnabled: false });
    expect(r.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('answers 401 without a token, with a wrong token, and with another scheme; nothing is queued', async () => {
    const wrong = { authorization: 'Bearer test-token-0000000000000000000000000' };
    for (const [method, url] of [['GET', '/api/v1/queue'], ['GET', '/api/v1/settings'], ['GET', '/api/v1/mail-log'], ['GET', '/api/v1/events'], ['POST', '/api/v1/queue/flush'], ['DELETE', '/api/v1/queue']] as const) {
      expect((await raw(method, url)).status, `${method} ${url} without a token`).toBe(401);
      expect((await raw(method, url, wrong)).status, `${method} ${url} with a wrong token`).toBe(401);
    }
    expect((await raw('GET', '/api/v1/queue', { authorization: `Basic ${Buffer.from('admin:' + postroom.token).toString('base64')}` })).status).toBe(401);
    expect((await raw('GET', '/api/v1/queue', { authorization: postroom.token })).status).toBe(401);

    const message = JSON.stringify({ from: 'alerts@nas.example.com', to: 'ops@example.com', subject: 'sneaky', text: 'x' });
    const res = await raw('POST', '/api/v1/messages', { ...wrong, 'content-type': 'application/json' }, message);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: expect.stringMatching(/bearer token is required/) });
    const none = await raw('POST', '/api/v1/messages', { 'content-type': 'application/json' }, message);
    expect(none.status).toBe(401);

    expect(await queue(postroom)).toEqual([]);
    expect(await mailLog(postroom, '')).toEqual([]);
    expect(sink.messages).toHaveLength(0);
  });

  it('queues a JSON message (202 with its id) and delivers it to the relay with the right envelope and headers', async () => {
    const res = await postroom.api<{ id: string }>('POST', '/api/v1/messages', {
      from: 'alerts@nas.example.com',
      fromName: 'NAS Alerts',
      to: ['ops@example.com', 'oncall@example.com'],
      cc: 'boss@example.com',
      bcc: 'audit@example.com',
      subject: 'Überhitzung: CPU at 95 °C',
      text: 'The CPU is too hot.',
      html: '<p>The CPU is <b>too hot</b>.</p>',
    });
    expect(res.status).toBe(202);
    expect(res.body.id).toMatch(/^[0-9A-Z]{17}$/);
    const id = res.body.id;

    await sink.waitFor(1);
    const got = sink.messages[0]!;
    expect(got.from).toBe('alerts@nas.example.com');
    expect([...got.to].sort()).toEqual(['audit@example.com', 'boss@example.com', 'oncall@example.com', 'ops@example.com']);

    const text = got.data.toString();
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/^Bcc:/im);
    expect(head).toMatch(/^Received: from localhost \(api\) by /);
    expect(head.replace(/\r\n\s+/g, ' ')).toMatch(new RegExp(`\\(Postroom\\) with HTTP id ${id};`));

    const parsed = await simpleParser(got.data);
    expect(parsed.from?.value).toEqual([{ address: 'alerts@nas.example.com', name: 'NAS Alerts' }]);
    const addresses = (a: typeof parsed.to) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));
    expect(addresses(parsed.to)).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(addresses(parsed.cc)).toEqual(['boss@example.com']);
    expect(parsed.subject).toBe('Überhitzung: CPU at 95 °C');
    expect(parsed.messageId).toMatch(/^<.+@.+>$/);
    expect(parsed.date).toBeInstanceOf(Date);
    expect(parsed.text?.trim()).toBe('The CPU is too hot.');
    expect(parsed.html).toContain('<b>too hot</b>');
    expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });

    const log = await postroom.until(async () => {
      const entries = await mailLog(postroom, `queueId=${id}`);
      return entries.filter((e) => e.event === 'sent').length === 4 ? entries : undefined;
    }, 'four sent entries');
    const received = log.filter((e) => e.event === 'received');
    expect(received).toHaveLength(1);
    expect(received[0]!.clientAddress).toBeNull();
    expect(log.filter((e) => e.event === 'sent').map((e) => e.to).sort()).toEqual(['audit@example.com', 'boss@example.com', 'oncall@example.com', 'ops@example.com']);
    expect(await queue(postroom)).toEqual([]);
  });

  it('answers 400 with one reason per field for an invalid message, and queues nothing', async () => {
    const before = (await mailLog(postroom, 'event=received')).length;

    const bad = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { from: 'not an address', to: ['ops@example.com', 'no pe@'], subject: 'two\r\nlines', text: 'x', priority: 'high' });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toBeDefined();
    expect(Object.keys(bad.body.fields!).sort()).toEqual(['from', 'priority', 'subject', 'to']);
    expect(bad.body.fields!.to).toMatch(/email address/);
    expect(bad.body.fields!.subject).toMatch(/line breaks/);

    const noBody = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { from: 'alerts@nas.example.com', to: 'ops@example.com', subject: 'empty' });
    expect(noBody.status).toBe(400);
    expect(noBody.body.fields).toEqual({ text: 'a message needs text or html' });

    const noTo = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { from: 'alerts@nas.example.com', text: 'x' });
    expect(noTo.status).toBe(400);
    expect(noTo.body.fields).toHaveProperty('to');

    // No From in the request and none configured.
    const noFrom = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { to: 'ops@example.com', text: 'x' });
    expect(noFrom.status).toBe(400);
    expect(noFrom.body.fields).toHaveProperty('from');

    expect(await queue(postroom)).toEqual([]);
    expect((await mailLog(postroom, 'event=received')).length).toBe(before);
    expect(sink.messages).toHaveLength(1);
  });

  it('answers 400 to an address no transport could send (a quoted < or >), for the sender and for each recipient', async () => {
    const base = { from: 'alerts@nas.example.com', to: 'ops@example.com', subject: 'quoted', text: 'x' };
    for (const [field, value] of [['from', '"a<b"@nas.example.com'], ['to', '"<ops@evil.example>"@example.com'], ['cc', '"a>b"@example.com'], ['replyTo', '"x<y"@example.com']] as const) {
      const r = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { ...base, [field]: value });
      expect(r.status, field).toBe(400);
      expect(Object.keys(r.body.fields ?? {}), field).toEqual([field]);
    }
    expect(await queue(postroom)).toEqual([]);
  });

  it('answers 400 to a message without any recipient (to: []), and queues and logs nothing', async () => {
    const before = (await mailLog(postroom, '')).length;
    for (const body of [{ to: [] }, { to: [], cc: [], bcc: [] }]) {
      const r = await postroom.api<ErrorBody>('POST', '/api/v1/messages', { from: 'alerts@nas.example.com', subject: 'to nobody', text: 'x', ...body });
      expect(r.status).toBe(400);
      expect(r.body.fields).toEqual({ to: 'needs at least one recipient (in to, cc or bcc)' });
    }
    expect(await queue(postroom)).toEqual([]);
    expect((await mailLog(postroom, '')).length).toBe(before);

    // Bcc alone is a recipient: the message goes out with no To header.
    const bccOnly = await postroom.api<{ id: string }>('POST', '/api/v1/messages', { from: 'alerts@nas.example.com', to: [], bcc: 'audit@example.com', subject: 'undisclosed', text: 'x' });
    expect(bccOnly.status).toBe(202);
    await sink.waitFor(2);
    expect(sink.messages[1]!.to).toEqual(['audit@example.com']);
  });

  it('answers every refusal in one shape: statusCode, error, message, and fields when a field is to blame', async () => {
    const unknownId = newQueueId();
    const cases: [string, string, number, string, Record<string, string> | undefined][] = [
      ['GET', '/api/v1/queue?limit=0', 400, 'Bad Request', { limit: 'must be a whole number from 1 to 500' }],
      ['GET', '/api/v1/queue/not-an-id', 400, 'Bad Request', { id: 'is not a queue id' }],
      ['GET', '/api/v1/reports/2026-02-30', 400, 'Bad Request', { date: 'must be today, yesterday or a date such as 2026-11-22' }],
      ['GET', `/api/v1/queue/${unknownId}`, 404, 'Not Found', undefined],
      ['GET', '/api/v1/relays/999999', 404, 'Not Found', undefined],
      ['DELETE', '/api/v1/relays/primary', 409, 'Conflict', undefined],
    ];
    for (const [method, url, statusCode, error, fields] of cases) {
      const r = await postroom.api<ErrorBody & { error: string }>(method, url);
      expect(r.status, url).toBe(statusCode);
      expect(r.body, url).toEqual({ statusCode, error, message: expect.any(String), ...(fields ? { fields } : {}) });
    }
  });
});
