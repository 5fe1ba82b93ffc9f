import { simpleParser } from 'mailparser';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BounceNotifier } from '../../src/delivery/bounce-notifier.js';
import { AttemptOutcome } from '../../src/delivery/outcome.js';
import { OutcomeRecorder } from '../../src/delivery/outcome.recorder.js';
import { IntakeService } from '../../src/intake/intake.service.js';
import { LocalMailService } from '../../src/intake/local-mail.service.js';
import { ClaimedMessage } from '../../src/queue/queue.repository.js';
import { SettingsEntity } from '../../src/settings/settings.entity.js';
import type { SettingsService } from '../../src/settings/settings.service.js';
import { StormService } from '../../src/storm/storm.service.js';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { clearQueue, message, queueServices } from './support.js';
import type { MessageData } from '../../src/common/message-data.js';

/**
 * Delivery status notifications on a real PostgreSQL: OutcomeRecorder commits an attempt, then
 * BounceNotifier queues the DSN through the real IntakeService; the DSN is read back from the
 * queue and parsed with mailparser.
 */
describe('BounceNotifier: RFC 3464 notices after an attempt (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let services: ReturnType<typeof queueServices>;
  let recorder: OutcomeRecorder;
  let settings: Partial<SettingsEntity>;
  let n = 0;
  const owner = 'test-worker';

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    const fakeSettings = { get: async () => settings as SettingsEntity, heloName: async () => 'nas.example.com' } as unknown as SettingsService;
    const storm = new StormService(silentLogger, services.sql, services.repo, services.writer, fakeSettings);
    const localMail = new LocalMailService(services.sql, silentLogger, fakeSettings, services.repo, services.events, services.notifier, services.mailLog, storm);
    const intake = new IntakeService(services.queue, fakeSettings, localMail, storm, services.rules, silentLogger);
    const notifier = new BounceNotifier(services.sql, services.repo, fakeSettings, intake, services.events, silentLogger);
    recorder = new OutcomeRecorder(services.writer, notifier, services.channels);
  });
  afterAll(async () => close?.());

  beforeEach(async () => {
    settings = { fromName: 'NAS', fromAddress: 'nas@example.com', adminAddress: 'admin@example.com', rewriteFrom: false, hostname: 'nas.example.com', delayWarningHours: 0, aliases: {} };
    await clearQueue(ds);
    await ds.query(`DELETE FROM event`);
  });

  /** Queues a message and claims it, as the worker would. */
  async function claimed(sender: string, recipients: string[], ageHours = 0): Promise<ClaimedMessage & { data: MessageData }> {
    n++;
    const m = message(n, { sender, recipients, subject: `Disk ${n} failing`, data: Buffer.from(`From: ${sender || 'x@example.com'}\r\nTo: ${recipients.join(', ')}\r\nSubject: Disk ${n} failing\r\nMessage-ID: <m${n}@example.com>\r\n\r\nSMART says no\r\n`) });
    await services.queue.enqueue(m);
    if (ageHours) await ds.query(`UPDATE message SET created_at = now() - make_interval(hours => $2) WHERE id = $1`, [m.id, ageHours]);
    const rows = await services.repo.claim(owner, 100, 60);
    const mine = rows.find((r) => r.id === m.id);
    if (!mine) throw new Error('not claimed');
    return withBody(mine);
  }

  /** A small message's claim carries its body. */
  const withBody = (m: ClaimedMessage): ClaimedMessage & { data: MessageData } => {
    if (!m.data) throw new Error(`no body claimed for ${m.id}`);
    return { ...m, data: m.data };
  };

  /** The notices in the queue: empty envelope sender. */
  async function notices(): Promise<{ id: string; recipients: string[]; data: Buffer }[]> {
    return ds.query(`SELECT m.id, m.recipients, b.data FROM message m JOIN message_body b ON b.id = m.id WHERE m.sender = '' ORDER BY m.id`);
  }

  const events = async (): Promise<{ level: string; message: string; details: Record<string, unknown> }[]> => ds.query(`SELECT level, message, details FROM event ORDER BY id`);

  it('a 5xx bounce yields a multipart/report DSN to the sender with the right status per recipient, sent with <>', async () => {
    const m = await claimed('backup@host.example.org', ['ok@example.net', 'nobody@example.net', 'gone@example.net']);
    const outcome: AttemptOutcome = {
      relay: 'relay.example.org:587',
      recipients: [
        { recipient: 'ok@example.net', status: 'sent', reply: '250 2.0.0 Ok', code: 250 },
        { recipient: 'nobody@example.net', status: 'bounced', reply: '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown', code: 550 },
        { recipient: 'gone@example.net', status: 'bounced', reply: '554 Transaction failed', code: 554 },
      ],
    };
    await recorder.record(m, owner, outcome, 120);

    const queued = await notices();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.recipients).toEqual(['backup@host.example.org']);
    const mail = await simpleParser(queued[0]!.data);
    const type = mail.headers.get('content-type') as { value: string; params: Record<string, string> };
    expect(type.value).toBe('multipart/report');
    expect(type.params['report-type']).toBe('delivery-status');
    expect(mail.subject).toBe('Undelivered Mail Returned to Sender: Disk 1 failing');
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail.to).toMatchObject({ value: [{ address: 'backup@host.example.org' }] });
    expect(mail.from).toMatchObject({ value: [{ address: 'nas@example.com', name: 'Mail Delivery System' }] });
    // mailparser gives the human part and the message/delivery-status part as text
    const text = mail.text ?? '';
    expect(text).toContain('could not be delivered');
    expect(text).toContain('Reporting-MTA: dns; nas.example.com');
    expect(text).toMatch(/^Arrival-Date: \w{3}, \d+ \w{3} \d{4} /m);
    expect(text).toContain(`X-Postroom-Queue-ID: ${m.id}`);
    const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.includes('Final-Recipient:'));
    expect(blocks).toHaveLength(2);
    const byRecipient = Object.fromEntries(blocks.map((b) => [/Final-Recipient: rfc822; (\S+)/.exec(b)![1], b]));
    expect(Object.keys(byRecipient).sort()).toEqual(['gone@example.net', 'nobody@example.net']);
    expect(byRecipient['nobody@example.net']).toMatch(/^Action: failed$/m);
    expect(byRecipient['nobody@example.net']).toMatch(/^Status: 5\.1\.1$/m);
    expect(byRecipient['nobody@example.net']).toMatch(/^Remote-MTA: dns; relay\.example\.org$/m);
    expect(byRecipient['nobody@example.net']).toMatch(/^Diagnostic-Code: smtp; 550 5\.1\.1 <nobody@example\.net>: Recipient address rejected: User unknown$/m);
    expect(byRecipient['gone@example.net']).toMatch(/^Status: 5\.0\.0$/m);
    expect(text).not.toContain('Final-Recipient: rfc822; ok@example.net');
    // the original headers, as text/rfc822-headers
    const headers = mail.attachments.find((a) => a.contentType === 'text/rfc822-headers');
    expect(headers?.content.toString()).toContain('Subject: Disk 1 failing');
    expect(headers?.content.toString()).not.toContain('SMART says no');

    const ev = await events();
    expect(ev.some((e) => e.level === 'info' && e.message === `Non-delivery notice for message ${m.id} sent to backup@host.example.org as ${queued[0]!.id}`)).toBe(true);
  });

  it('never sends a notice about a message with an empty envelope sender (a notice itself)', async () => {
    const m = await claimed('', ['nobody@example.net']);
    await recorder.record(m, owner, { relay: 'relay.example.org:587', recipients: [{ recipient: 'nobody@example.net', status: 'bounced', reply: '550 5.1.1 unknown', code: 550 }] }, 120);
    expect(await notices()).toEqual([]);
    const ev = await events();
    expect(ev.map((e) => e.message)).toContain(`Non-delivery notice for message ${m.id} not sent: its envelope sender is empty (no notice about a notice)`);
  });

  it("sends the notice for the appliance's own mail (the From address, this host, localhost) to the admin address", async () => {
    for (const sender of ['nas@example.com', 'root@nas.example.com', 'root@localhost']) {
      await clearQueue(ds);
      const m = await claimed(sender, ['nobody@example.net']);
      await recorder.record(m, owner, { relay: 'relay.example.org:587', recipients: [{ recipient: 'nobody@example.net', status: 'bounced', reply: '550 5.1.1 unknown', code: 550 }] }, 120);
      const queued = await notices();
      expect(queued.map((q) => q.recipients), sender).toEqual([['admin@example.com']]);
    }
    settings.adminAddress = '';
    await clearQueue(ds);
    const m = await claimed('nas@example.com', ['nobody@example.net']);
    await recorder.record(m, owner, { relay: null, recipients: [{ recipient: 'nobody@example.net', status: 'bounced', reply: '550 5.1.1 unknown', code: 550 }] }, 120);
    expect(await notices()).toEqual([]);
    expect((await events()).find((e) => e.level === 'warning' && e.message.includes('not sent'))?.message).toBe(
      `Non-delivery notice for message ${m.id} not sent: it is the appliance's own mail and no admin address is set`,
    );
  });

  it('a message that outlives its lifetime bounces with Status 5.4.7 and the last error', async () => {
    const m = await claimed('backup@host.example.org', ['slow@example.net'], 3);
    await recorder.record(m, owner, { relay: 'relay.example.org:587', recipients: [{ recipient: 'slow@example.net', status: 'deferred', reply: '451 4.2.1 Mailbox busy', code: 451 }] }, 1);
    const queued = await notices();
    expect(queued).toHaveLength(1);
    const mail = await simpleParser(queued[0]!.data);
    expect(mail.text).toContain('within 1 hours');
    expect(mail.text).toMatch(/^Status: 5\.4\.7$/m);
    expect(mail.text).toMatch(/^Action: failed$/m);
    expect(mail.text).toMatch(/^Diagnostic-Code: smtp; 451 4\.2\.1 Mailbox busy$/m);
    expect((await events()).some((e) => e.message.startsWith('Expired: message'))).toBe(true);
  });

  it('sends one "delayed" notice (Action: delayed, Status 4.x.x) once a message has waited delayWarningHours, and only once', async () => {
    const deferredOutcome: AttemptOutcome = { relay: 'relay.example.org:587', recipients: [{ recipient: 'busy@example.net', status: 'deferred', reply: '451 4.2.1 Mailbox busy', code: 451 }] };
    // off by default
    let m = await claimed('backup@host.example.org', ['busy@example.net'], 5);
    await recorder.record(m, owner, deferredOutcome, 120);
    expect(await notices()).toEqual([]);

    settings.delayWarningHours = 4;
    await ds.query(`UPDATE message SET next_attempt_at = now()`);
    m = withBody((await services.repo.claim(owner, 10, 60))[0]!);
    await recorder.record(m, owner, deferredOutcome, 120);
    const queued = await notices();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.recipients).toEqual(['backup@host.example.org']);
    const mail = await simpleParser(queued[0]!.data);
    expect((mail.headers.get('content-type') as { value: string }).value).toBe('multipart/report');
    expect(mail.subject).toMatch(/^Delayed Mail \(still being retried\)/);
    expect(mail.text).toMatch(/^Action: delayed$/m);
    expect(mail.text).toMatch(/^Status: 4\.2\.1$/m);
    expect(mail.text).toMatch(/^Will-Retry-Until: /m);
    expect((await events()).filter((e) => e.message.startsWith('Delay notice'))).toHaveLength(1);

    // the next deferral of the same message: no second warning
    await ds.query(`UPDATE message SET next_attempt_at = now() WHERE sender <> ''`);
    const again = withBody((await services.repo.claim(owner, 10, 60)).find((r) => r.id === m.id)!);
    await recorder.record(again, owner, deferredOutcome, 120);
    expect(await notices()).toHaveLength(1);

    // a younger message: not yet
    const young = await claimed('backup@host.example.org', ['busy@example.net'], 1);
    await recorder.record(young, owner, deferredOutcome, 120);
    expect(await notices()).toHaveLength(1);
  });
});
