import { simpleParser } from 'mailparser';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { multipartParts } from '../helpers/digest-parts.js';
import type { AppConfig } from '../../src/config/config.schema.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { StormService } from '../../src/storm/storm.service.js';
import { count, finishAttempts, message, queueServices, stateOf } from './support.js';

/** A stored body, read back whole. */
async function bodyOf(ds: DataSource, id: string): Promise<Buffer> {
  const rows: { data: Buffer }[] = await ds.query(`SELECT data FROM message_body WHERE id = $1`, [id]);
  return rows[0]!.data;
}

describe('Alert storms: held messages are stored, then replaced by one digest', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let storm: StormService;
  let services: ReturnType<typeof queueServices>;
  const settings = { stormWindowMinutes: 10, stormMaxDuplicates: 3, senderRateLimitPerMinute: 0, fromAddress: 'postroom@nas.example.com', fromName: 'Postroom' };

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    const settingsService = { get: async () => settings, heloName: async () => 'nas.example.com' } as unknown as SettingsService;
    storm = new StormService(silentLogger, services.sql, services.repo, services.writer, settingsService);
  });

  /** A storm guard of its own, with these settings and this size limit. */
  function stormWith(own: typeof settings, maxMessageBytes?: number): StormService {
    const settingsService = { get: async () => own, heloName: async () => 'nas.example.com' } as unknown as SettingsService;
    const config = maxMessageBytes ? ({ smtp: { maxMessageBytes } } as AppConfig) : undefined;
    return new StormService(silentLogger, services.sql, services.repo, services.writer, settingsService, undefined, config);
  }

  afterAll(async () => {
    await close?.();
  });

  it('lets the first N through, stores the rest on hold, and digests them at the end of the window', async () => {
    const t0 = Date.now();
    const verdicts = [];
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const m = message(i, { sender: 'zfs@nas.local', recipients: ['ops@example.com'], subject: 'Pool degraded' });
      const v = storm.guard.check(m, settings, t0 + i);
      verdicts.push(v.hold);
      ids.push(v.hold ? await storm.hold(m, v) : await services.queue.enqueue(m));
    }
    expect(verdicts).toEqual([false, false, false, true, true, true, true, true, true, true]);
    expect(await count(ds, 'message', `state = 'hold'`)).toBe(7);
    expect(await count(ds, 'message', `state = 'queued'`)).toBe(3);
    expect(await count(ds, 'storm_hold')).toBe(7);
    expect(await count(ds, 'mail_log', `event = 'received'`)).toBe(10);
    const held = await services.queue.list({ state: 'hold', limit: 50 });
    expect(held.items[0]!.lastError).toMatch(/^held back by alert-storm protection \(more than 3 identical messages within 10 min\)/);
    expect(await count(ds, 'event', `message LIKE 'Alert storm: messages from zfs@nas.local%'`)).toBe(1);

    // Not yet due: nothing happens.
    expect(await storm.sendDueDigests(new Date(t0 + 60_000))).toEqual([]);
    // The operator releases one held message: it leaves the storm for good and is delivered on its own.
    await services.queue.releaseOne(ids[9]!, 'test');
    expect(await count(ds, 'storm_hold', `id = $1`, [ids[9]])).toBe(0);

    const [digestId] = await storm.sendDueDigests(new Date(t0 + 10 * 60_000 + 10));
    expect(digestId).toBeDefined();
    expect(await count(ds, 'message', `state = 'hold'`)).toBe(0);
    expect(await count(ds, 'storm_hold', `id <> $1`, [ids[9]])).toBe(0);
    // The digested messages went with their bodies (deleted by the same statement: no foreign key does it).
    expect(await count(ds, 'message_body', `id = ANY($1::text[])`, [ids.slice(3, 9)])).toBe(0);
    const rows: { subject: string; sender: string; recipients: string[]; state: string }[] = await ds.query(`SELECT subject, sender, recipients, state FROM message WHERE id = $1`, [digestId]);
    expect(rows[0]).toMatchObject({ state: 'queued', sender: 'postroom@nas.example.com', recipients: ['ops@example.com'] });
    expect(rows[0]!.subject).toMatch(/^\[Postroom digest\] 6 × 'Pool degraded' since \d\d:\d\d$/);
    // The digest came in through the queue's one write path: its 'received' line as every message's.
    const [line]: { sender: string; recipient: string; subject: string; size: number }[] = await ds.query(
      `SELECT sender, recipient, subject, size FROM mail_log WHERE event = 'received' AND queue_id = $1`,
      [digestId],
    );
    expect(line).toMatchObject({ sender: 'postroom@nas.example.com', recipient: 'ops@example.com', subject: rows[0]!.subject });
    const body: { data: Buffer }[] = await ds.query(`SELECT data FROM message_body WHERE id = $1`, [digestId]);
    expect(body[0]!.data.toString()).toContain('X-Postroom-Digest: 6');
    // It carries the six held messages, not the released one.
    const carried = multipartParts(body[0]!.data).parts.slice(1);
    expect(carried.map((p) => p.content.toString())).toEqual([3, 4, 5, 6, 7, 8].map((i) => `Subject: Message ${i}\r\n\r\nbody ${i}\r\n`));
    const ev: { details: { heldQueueIds: string; count: number } }[] = await ds.query(`SELECT details FROM event WHERE message LIKE 'Alert storm digest%'`);
    expect(ev).toHaveLength(1);
    expect(ev[0]!.details.count).toBe(6);
    expect(ev[0]!.details.heldQueueIds.split(' ').sort()).toEqual(ids.slice(3, 9).sort());
    // A second sweep finds nothing more.
    expect(await storm.sendDueDigests(new Date(t0 + 11 * 60_000))).toEqual([]);

    // The released message, once delivered, leaves neither its body nor its storm_hold row behind.
    const claimed = await services.repo.claim('worker-1', 50, 600);
    expect(claimed.map((m) => m.id)).toContain(ids[9]);
    expect(await finishAttempts(ds, services.repo, [{ id: ids[9]!, owner: 'worker-1', pending: [], nextAttemptAt: null, lastError: null }])).toEqual([ids[9]]);
    expect(await count(ds, 'storm_hold')).toBe(0);
    expect(await count(ds, 'message_body', `id = $1`, [ids[9]])).toBe(0);
  });

  it('holds a big message like a small one: on hold with its storm_hold row, its body streamed', async () => {
    const t0 = Date.now() + 3_600_000;
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    let id = '';
    for (let i = 0; i < 4; i++) {
      const m = message(100 + i, { sender: 'backup@nas.local', recipients: ['ops@example.com'], subject: 'Backup failed', data: big });
      const v = storm.guard.check(m, settings, t0 + i);
      id = v.hold ? await storm.hold(m, v) : await services.queue.enqueue(m);
    }
    const [row]: { state: string; last_error: string; hold_reason: string | null; size: number }[] = await ds.query(`SELECT state, last_error, hold_reason, size FROM message WHERE id = $1`, [id]);
    expect(row).toMatchObject({ state: 'hold', hold_reason: null, size: big.length });
    expect(row!.last_error).toMatch(/^held back by alert-storm protection/);
    expect(await count(ds, 'storm_hold', `id = $1 AND reason = 'duplicate'`, [id])).toBe(1);
    expect(await count(ds, 'message_body', `id = $1 AND length(data) = $2`, [id, big.length])).toBe(1);

    // Its digest carries it whole (read back in slices); the digest, over 1 MiB, is stored in slices too.
    const [digestId] = await storm.sendDueDigests(new Date(t0 + 10 * 60_000 + 10));
    const [d]: { size: number }[] = await ds.query(`SELECT size FROM message WHERE id = $1`, [digestId]);
    const data = await services.repo.loadBody(digestId!, d!.size);
    const { parts } = multipartParts(data);
    expect(parts).toHaveLength(2);
    expect(parts[1]!.content.equals(big)).toBe(true);
    expect(await count(ds, 'message', `id = $1`, [id])).toBe(0);
  });

  it('makes the digest a multipart/digest: the summary, then each held message as message/rfc822, byte for byte, oldest first', async () => {
    const own = { ...settings, stormMaxDuplicates: 2 };
    const s2 = stormWith(own);
    const t0 = Date.now() + 2 * 3_600_000;
    const bodies = [
      'plain body one\r\n',
      'plain body two\r\n',
      '--looks-like-a-boundary\r\n--\r\n', // lines that start like a delimiter
      'line\r\n'.repeat(500),
      'Température: 71 °C on sda\r\n', // 8-bit bytes
      'no final newline',
    ].map((b, i) => Buffer.from(`From: zfs@nas.local\r\nTo: ops@example.com\r\nSubject: Scrub finished\r\nX-Alert: ${i}\r\n\r\n${b}`, 'utf8'));
    const ids: string[] = [];
    for (const [i, data] of bodies.entries()) {
      const m = message(200 + i, { sender: 'zfs@nas.local', recipients: ['ops@example.com'], subject: 'Scrub finished', data });
      const v = s2.guard.check(m, own, t0 + i);
      ids.push(v.hold ? await s2.hold(m, v) : await services.queue.enqueue(m));
    }
    expect(await count(ds, 'message', `state = 'hold' AND id = ANY($1::text[])`, [ids])).toBe(4);
    // Released before the window ends: delivered on its own, never in the digest.
    await services.queue.releaseOne(ids[3]!, 'test');

    const digests = await s2.sendDueDigests(new Date(t0 + 10 * 60_000 + 10));
    expect(digests).toHaveLength(1);
    const data = await bodyOf(ds, digests[0]!);
    const { headers, parts } = multipartParts(data);
    expect(headers).toMatch(/^Content-Type: multipart\/digest; boundary="postroom-digest-[0-9a-f]+"$/m);
    expect(headers).toMatch(/^Content-Transfer-Encoding: 8bit$/m);
    expect(headers).toMatch(/^X-Postroom-Digest: 3$/m);
    expect(parts[0]!.headers).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
    expect(parts.slice(1).map((p) => p.headers)).toEqual(['Content-Type: message/rfc822', 'Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit', 'Content-Type: message/rfc822']);
    // Byte for byte, oldest first: held 2, 4 and 5 (3 was released).
    expect(parts.slice(1).map((p) => p.content.toString('base64'))).toEqual([bodies[2]!, bodies[4]!, bodies[5]!].map((b) => b.toString('base64')));
    expect(await stateOf(ds, ids[3]!)).toBe('queued');
    expect(await count(ds, 'message', `id = ANY($1::text[])`, [[ids[2], ids[4], ids[5]]])).toBe(0);

    // What a mail client reads: the summary as text, each held message as an attached message.
    const mail = await simpleParser(data);
    expect(mail.subject).toBe("[Postroom digest] 3 × 'Scrub finished' since " + /since (\d\d:\d\d)/.exec(mail.subject ?? '')?.[1]);
    expect(mail.text).toContain("3 × 'Scrub finished'");
    expect(mail.text).toContain('the others follow in this digest, each as it was received, oldest first');
    const attached = mail.attachments.filter((a) => a.contentType === 'message/rfc822');
    expect(attached.map((a) => a.content.toString('base64'))).toEqual([bodies[2]!, bodies[4]!, bodies[5]!].map((b) => b.toString('base64')));
  });

  it('splits a group over the size limit into several digests of whole messages, and sends one too large for any on its own', async () => {
    const own = { ...settings, stormMaxDuplicates: 1 };
    const limit = 16 * 1024;
    const s3 = stormWith(own, limit);
    const t0 = Date.now() + 3 * 3_600_000;
    const alert = (i: number, size: number) => {
      const head = `From: ups@nas.local\r\nTo: ops@example.com\r\nSubject: On battery\r\nX-Alert: ${i}\r\n\r\n`;
      return Buffer.from(head + String(i % 10).repeat(size - head.length - 2) + '\r\n');
    };
    const sizes = [1000, 3000, 3000, 15_000, 3000, 3000, 3000, 3000, 3000];
    const data = sizes.map((n, i) => alert(i, n));
    const ids: string[] = [];
    for (const [i, d] of data.entries()) {
      const m = message(300 + i, { sender: 'ups@nas.local', recipients: ['ops@example.com'], subject: 'On battery', data: d });
      const v = s3.guard.check(m, own, t0 + i);
      ids.push(v.hold ? await s3.hold(m, v) : await services.queue.enqueue(m));
    }
    const digests = await s3.sendDueDigests(new Date(t0 + 10 * 60_000 + 10));
    expect(digests).toHaveLength(3);
    const rows: { id: string; subject: string; size: number }[] = await ds.query(`SELECT id, subject, size FROM message WHERE id = ANY($1::text[]) ORDER BY id`, [digests]);
    expect(rows.map((r) => r.subject.replace(/since \d\d:\d\d/, 'since T'))).toEqual([1, 2, 3].map((k) => `[Postroom digest] 8 × 'On battery' since T (${k} of 3)`));
    const carried: Buffer[] = [];
    for (const r of rows) {
      expect(r.size).toBeLessThanOrEqual(limit);
      const { parts } = multipartParts(await bodyOf(ds, r.id));
      carried.push(...parts.slice(1).map((p) => p.content));
    }
    // Every held message but the big one, whole and in order, across the three.
    const expected = [1, 2, 4, 5, 6, 7, 8].map((i) => data[i]!.toString('base64'));
    expect(carried.map((c) => c.toString('base64'))).toEqual(expected);
    // The big one (15,000 bytes: no digest under 16 KiB holds it) is queued alone, out of its storm.
    const [big]: { state: string; last_error: string | null }[] = await ds.query(`SELECT state, last_error FROM message WHERE id = $1`, [ids[3]]);
    expect(big).toEqual({ state: 'queued', last_error: null });
    expect(await count(ds, 'storm_hold', `id = $1`, [ids[3]])).toBe(0);
    const firstText = (await simpleParser(await bodyOf(ds, rows[0]!.id))).text ?? '';
    expect(firstText).toContain(`This is digest 1 of 3: it carries messages 1–3 of the 7 held.`);
    expect(firstText).toContain(`1 held message was too large to be carried in a digest (limit ${limit} bytes) and is delivered on its own: ${ids[3]}.`);
    const ev: { details: { heldQueueIds: string; part: number; parts: number; releasedQueueIds?: string } }[] = await ds.query(
      `SELECT details FROM event WHERE message LIKE 'Alert storm digest%' AND details->>'sender' = 'ups@nas.local' ORDER BY id`,
    );
    expect(ev.map((e) => [e.details.part, e.details.parts, e.details.heldQueueIds.split(' ').length, e.details.releasedQueueIds])).toEqual([
      [1, 3, 3, ids[3]],
      [2, 3, 3, undefined],
      [3, 3, 1, undefined],
    ]);
  });

  it("gives the digest its messages' undelivered steps (each once) and names only the mail recipients in its To header and text", async () => {
    const t0 = Date.now() + 7_200_000;
    const ownSettings = { ...settings, stormMaxDuplicates: 1 };
    const own = stormWith(ownSettings);
    const escalation = [{ channels: [5], afterMinutes: 0, rule: 'page on failure' }];
    for (let i = 0; i < 3; i++) {
      const m = message(300 + i, { sender: 'ups@nas.local', recipients: ['ops@example.com', 'channel:4'], subject: 'On battery', escalation });
      const v = own.guard.check(m, ownSettings, t0 + i);
      if (v.hold) await own.hold(m, v);
      else await services.queue.enqueue(m);
    }
    const [digestId] = await own.sendDueDigests(new Date(t0 + 11 * 60_000));
    const rows: { recipients: string[]; escalation: unknown }[] = await ds.query(`SELECT recipients, escalation FROM message WHERE id = $1`, [digestId]);
    expect(rows[0]).toEqual({ recipients: ['ops@example.com', 'channel:4'], escalation });
    const mail = await simpleParser(await bodyOf(ds, digestId!));
    expect(mail.headers.get('to')).toMatchObject({ text: 'ops@example.com' });
    expect(mail.text).not.toContain('channel:');
  });
});
