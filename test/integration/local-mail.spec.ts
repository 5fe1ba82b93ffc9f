import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntakeService } from '../../src/intake/intake.service.js';
import { LocalMailService } from '../../src/intake/local-mail.service.js';
import type { SettingsEntity } from '../../src/settings/settings.entity.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { StormService } from '../../src/storm/storm.service.js';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { clearQueue, queueServices } from './support.js';

interface Row {
  state: string;
  recipients: string[];
  original_recipients: Record<string, string> | null;
  hold_reason: string | null;
  last_error: string | null;
  created_at: Date;
}

/**
 * Mail for local names on a real PostgreSQL: IntakeService rewrites local recipients, a message
 * with nowhere to go is stored on hold, and LocalMailService releases it once an admin address
 * is set. Also a submission's own arrival time (a maildrop file written while Postroom was down).
 */
describe('IntakeService and LocalMailService: local names (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let services: ReturnType<typeof queueServices>;
  let intake: IntakeService;
  let localMail: LocalMailService;
  let settings: Partial<SettingsEntity>;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    const fakeSettings = { get: async () => settings as SettingsEntity, heloName: async () => 'nas.example.com' } as unknown as SettingsService;
    const storm = new StormService(silentLogger, services.sql, services.repo, services.writer, fakeSettings);
    localMail = new LocalMailService(services.sql, silentLogger, fakeSettings, services.repo, services.events, services.notifier, services.mailLog, storm);
    intake = new IntakeService(services.queue, fakeSettings, localMail, storm, services.rules, silentLogger);
  });
  afterAll(async () => close?.());

  beforeEach(async () => {
    settings = { fromName: 'NAS', fromAddress: 'nas@example.com', adminAddress: '', rewriteFrom: false, hostname: 'nas.example.com', aliases: { backup: ['ops@example.com'] } };
    await clearQueue(ds);
    await ds.query(`DELETE FROM event; DELETE FROM mail_log`);
  });

  const submit = (recipients: string[], over: Partial<Parameters<IntakeService['submit']>[0]> = {}) =>
    intake.submit({ envelopeFrom: 'root', recipients, raw: Buffer.from('From: root (Cron Daemon)\r\nSubject: s\r\n\r\nbody\r\n'), client: { address: null, protocol: 'local', uid: 0 }, ...over });
  const row = async (id: string): Promise<Row> => ((await ds.query(`SELECT state, recipients, original_recipients, hold_reason, last_error, created_at FROM message WHERE id = $1`, [id])) as Row[])[0]!;

  it('stores a message for a name without alias on hold (no admin address), with the reason, and queues the rest of the mail normally', async () => {
    const held = await submit(['root', 'backup']);
    expect(await row(held)).toMatchObject({
      state: 'hold',
      recipients: ['root', 'ops@example.com'],
      original_recipients: { 'ops@example.com': 'backup' },
      hold_reason: 'local',
      last_error: expect.stringMatching(/^waiting for an admin address: mail for root has nowhere to go/),
    });
    const normal = await submit(['backup']);
    expect(await row(normal)).toMatchObject({ state: 'queued', recipients: ['ops@example.com'], hold_reason: null });
    expect(await localMail.waiting()).toEqual({ count: 1, names: ['root'] });
  });

  it('releases the held messages once an admin address is set: rewritten, queued, logged', async () => {
    const id = await submit(['root', 'backup']);
    await localMail.releaseResolvable();
    expect((await row(id)).state).toBe('hold'); // still nowhere to go
    settings = { ...settings, adminAddress: 'admin@example.com' };
    await localMail.releaseResolvable();
    expect(await row(id)).toMatchObject({
      state: 'queued',
      recipients: ['admin@example.com', 'ops@example.com'],
      original_recipients: { 'admin@example.com': 'root', 'ops@example.com': 'backup' },
      hold_reason: null,
      last_error: null,
    });
    const events: { message: string }[] = await ds.query(`SELECT message FROM event WHERE source = 'queue'`);
    expect(events.map((e) => e.message)).toEqual(['1 message(s) for local names released to the admin address admin@example.com']);
    expect(await localMail.waiting()).toEqual({ count: 0, names: [] });
  });

  it('releases through the alert-storm guard: of six identical waiting cron mails the first two go, the other four wait for a digest', async () => {
    settings = { ...settings, stormMaxDuplicates: 2, stormWindowMinutes: 10, senderRateLimitPerMinute: 0 };
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await submit(['root']));
    settings = { ...settings, adminAddress: 'admin@example.com' };
    await localMail.releaseResolvable();
    const rows = await Promise.all(ids.map(row));
    expect(rows.map((r) => r.state)).toEqual(['queued', 'queued', 'hold', 'hold', 'hold', 'hold']);
    expect(rows.every((r) => r.recipients.join() === 'admin@example.com' && r.hold_reason === null)).toBe(true);
    expect(rows[2]!.last_error).toMatch(/^held back by alert-storm protection \(more than 2 identical messages within 10 min\)/);
    const holds: { id: string; reason: string }[] = await ds.query(`SELECT id, reason FROM storm_hold ORDER BY id`);
    expect(holds).toEqual(ids.slice(2).map((id) => ({ id, reason: 'duplicate' })));
    const lines: { queue_id: string; event: string; detail: string }[] = await ds.query(`SELECT queue_id, event, detail FROM mail_log WHERE event IN ('released', 'held') AND detail <> 'local mail waiting for an admin address' ORDER BY id`);
    expect(lines.filter((l) => l.event === 'released').map((l) => l.queue_id)).toEqual(ids);
    expect(lines.filter((l) => l.event === 'held')).toEqual(ids.slice(2).map((id) => ({ queue_id: id, event: 'held', detail: 'storm duplicate' })));
    const events: { level: string; message: string }[] = await ds.query(`SELECT level, message FROM event WHERE source IN ('queue', 'listener') ORDER BY id`);
    expect(events).toEqual([
      { level: 'info', message: '6 message(s) for local names released to the admin address admin@example.com (4 of them held back by alert-storm protection for a digest)' },
      { level: 'warning', message: expect.stringMatching(/^Alert storm: messages from nas@example\.com to admin@example\.com with subject 's' held back/) },
    ]);
  });

  it('with rewriteFrom, the storm guard still counts each sender (not the From address that replaces them all)', async () => {
    settings = { ...settings, adminAddress: 'admin@example.com', rewriteFrom: true, stormMaxDuplicates: 0, stormWindowMinutes: 10, senderRateLimitPerMinute: 2 };
    const ids: string[] = [];
    for (const sender of ['zfs@tank.example.org', 'smartd@disks.example.org', 'nut@ups.example.org']) ids.push(await submit(['ops@example.com'], { envelopeFrom: sender }));
    const rows: { state: string; sender: string }[] = await ds.query(`SELECT state, sender FROM message WHERE id = ANY($1) ORDER BY id`, [ids]);
    expect(rows.map((r) => r.state)).toEqual(['queued', 'queued', 'queued']);
    expect(rows.every((r) => r.sender === 'nas@example.com')).toBe(true);
    // The same sender past its rate is held.
    for (let i = 0; i < 2; i++) await submit(['ops@example.com'], { envelopeFrom: 'zfs@tank.example.org' });
    const held: { n: number }[] = await ds.query(`SELECT count(*)::int AS n FROM message WHERE state = 'hold'`);
    expect(held[0]!.n).toBe(1);
  });

  it('keeps the arrival time given (created_at and the received line) and qualifies the local sender with the From address', async () => {
    const arrived = new Date(Date.now() - 3_600_000);
    settings = { ...settings, adminAddress: 'admin@example.com' };
    const id = await submit(['root@localhost'], { receivedAt: arrived });
    expect((await row(id)).created_at.getTime()).toBe(arrived.getTime());
    const lines: { at: Date; sender: string; recipient: string; original_recipient: string }[] = await ds.query(`SELECT at, sender, recipient, original_recipient FROM mail_log WHERE queue_id = $1`, [id]);
    expect(lines).toEqual([{ at: arrived, sender: 'nas@example.com', recipient: 'admin@example.com', original_recipient: 'root@localhost' }]);
  });
});
