import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { StormService } from '../../src/storm/storm.service.js';
import { count, finishAttempts, message, queueServices } from './support.js';

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
    // The operator releases one held message: it leaves the storm and is delivered on its own.
    await services.queue.releaseOne(ids[9]!, 'test');

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
  });
});
