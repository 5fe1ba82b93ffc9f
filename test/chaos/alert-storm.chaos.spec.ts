import { simpleParser } from 'mailparser';
import { MAX_DIGEST_MESSAGES } from '../../src/storm/digest-mime.js';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';

interface EventItem {
  message: string;
  level: string;
  details: { queueId?: string; count?: number; heldQueueIds?: string; reason?: string };
}

const STORM = Number(process.env.STORM_COUNT ?? 10_000);
const MAX_DUPLICATES = 3;
const RATE = 5;
const RATE_SENT = 20;

/** The queue id Postroom wrote into the Received header of a delivered message. */
const receivedId = (data: Buffer) => /\(Postroom\)\s+with\s+\S+\s+id\s+([0-9A-Z]{17})/.exec(data.toString('latin1'))?.[1];
/** Subject and text of a delivered message, decoded (the digest's '×' makes them MIME-encoded). */
const parsed = new WeakMap<Buffer, { subject: string; text: string }>();
async function parse(data: Buffer): Promise<{ subject: string; text: string }> {
  let p = parsed.get(data);
  if (!p) {
    const mail = await simpleParser(data);
    p = { subject: mail.subject ?? '', text: mail.text ?? '' };
    parsed.set(data, p);
  }
  return p;
}
const subjectOf = (data: Buffer) => parsed.get(data)?.subject ?? '';
const textOf = (data: Buffer) => parsed.get(data)?.text ?? '';

describe('Alert storm: 10,000 identical alerts do not flood the relay, and nothing is lost', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { LOG_LEVEL: process.env.STORM_LOG_LEVEL ?? 'warn' } }).start();
    const res = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: sink.port,
      security: 'none',
      fromAddress: 'postroom@nas.example.com',
      stormWindowMinutes: 1,
      stormMaxDuplicates: MAX_DUPLICATES,
      senderRateLimitPerMinute: RATE,
    });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  it('delivers the first few, holds the rest (acknowledged with 250), and sends one digest with the count', async () => {
    const started = Date.now();
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 10, maxMessages: Infinity });
    const accepted: string[] = [];
    let refused = 0;
    let next = 0;
    const worker = async () => {
      while (next < STORM && Date.now() - started < 120_000) {
        next++;
        try {
          const info = await client.sendMail({ from: 'zfs@nas.local', to: 'ops@example.com', subject: 'Pool degraded', text: 'tank is DEGRADED: one disk faulted' });
          const id = /queued as ([0-9A-Z]{17})/.exec(info.response)?.[1];
          if (id) accepted.push(id);
        } catch {
          refused++;
        }
      }
    };
    // Meanwhile another sender goes past its rate: distinct subjects, one a second apart at most.
    const rateAccepted: string[] = [];
    const rateClient = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const rateSender = (async () => {
      for (let i = 1; i <= RATE_SENT; i++) {
        const info = await rateClient.sendMail({ from: 'backup@nas.local', to: 'ops@example.com', subject: `Backup job ${i} failed`, text: 'see the log' });
        rateAccepted.push(/queued as ([0-9A-Z]{17})/.exec(info.response)![1]!);
      }
    })();
    await Promise.all([...Array.from({ length: 10 }, worker), rateSender]);
    client.close();
    const intakeSeconds = (Date.now() - started) / 1000;
    expect(refused).toBe(0);
    expect(accepted).toHaveLength(STORM);
    expect(rateAccepted).toHaveLength(RATE_SENT);

    // Each window of 1 minute lets MAX_DUPLICATES through and ends in one digest.
    const windows = Math.ceil(intakeSeconds / 60) + 1;
    const isDigest = (s: string) => s.startsWith('[Postroom digest]');
    const digests = () => sink.messages.filter((m) => isDigest(subjectOf(m.data)));
    const counted = () =>
      digests().reduce((n, m) => n + Number(/X-Postroom-Digest: (\d+)/.exec(m.data.toString('latin1'))?.[1] ?? 0), 0);
    const direct = () => sink.messages.filter((m) => subjectOf(m.data) === 'Pool degraded');
    const directRate = () => sink.messages.filter((m) => subjectOf(m.data).startsWith('Backup job'));
    await postroom.until(
      async () => {
        for (const m of sink.messages) await parse(m.data);
        return direct().length + directRate().length + counted() === STORM + RATE_SENT;
      },
      'every alert delivered or summarised',
      150_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (sink has ${sink.messages.length})\n${postroom.output.split('\n').filter((l) => /storm|error|digest|delivery/i.test(l)).slice(-30).join('\n')}`);
    });

    // The relay saw a bounded number of messages, not 10,000.
    expect(direct().length).toBeLessThanOrEqual(MAX_DUPLICATES * windows);
    expect(directRate()).toHaveLength(RATE);
    // One digest per window and group, split into runs of at most MAX_DIGEST_MESSAGES messages.
    const digestBound = 2 * windows + Math.ceil((STORM + RATE_SENT) / MAX_DIGEST_MESSAGES);
    expect(digests().length).toBeLessThanOrEqual(digestBound);
    expect(sink.messages.length).toBeLessThanOrEqual(MAX_DUPLICATES * windows + RATE + digestBound);

    // The digest text has the count: "9997 × 'Pool degraded' since 10:03".
    const stormDigest = digests().find((m) => subjectOf(m.data).includes("'Pool degraded'"))!;
    expect(subjectOf(stormDigest.data)).toMatch(/^\[Postroom digest\] \d+ × 'Pool degraded' since \d\d:\d\d( \(\d+ of \d+\))?$/);
    expect(Number(/(\d+) ×/.exec(subjectOf(stormDigest.data))![1])).toBeLessThanOrEqual(STORM - MAX_DUPLICATES);
    expect(textOf(stormDigest.data)).toMatch(/\d+ × 'Pool degraded' since \d\d:\d\d \(last at \d\d:\d\d\)/);
    const rateDigest = digests().find((m) => textOf(m.data).includes('Backup job'))!;
    expect(textOf(rateDigest.data)).toContain(`more than ${RATE} messages a minute from this sender`);
    expect(textOf(rateDigest.data)).toMatch(/1 × 'Backup job 20 failed' since/);

    // Nothing lost: every acknowledged queue id was delivered itself or is named by a digest event.
    const events: EventItem[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { items: EventItem[]; nextCursor: string | null } } = await postroom.api('GET', `/api/v1/events?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      events.push(...r.body.items);
      cursor = r.body.nextCursor;
    } while (cursor);
    const summarised = new Set(events.filter((e) => e.message.startsWith('Alert storm digest')).flatMap((e) => (e.details.heldQueueIds ?? '').split(' ').filter(Boolean)));
    const delivered = new Set(sink.messages.map((m) => receivedId(m.data)));
    const unaccounted = [...accepted, ...rateAccepted].filter((id) => !summarised.has(id) && !delivered.has(id));
    expect(unaccounted).toEqual([]);
    expect(summarised.size + direct().length + directRate().length).toBe(STORM + RATE_SENT);
    // The event log says a storm started, once per window and group.
    const started_ = events.filter((e) => e.message.startsWith('Alert storm: messages from zfs@nas.local'));
    expect(started_.length).toBeGreaterThanOrEqual(1);
    expect(started_.length).toBeLessThanOrEqual(windows);
    expect(started_[0]!.level).toBe('warning');

    console.info(
      `alert storm: ${STORM} sent, ${accepted.length} acknowledged in ${intakeSeconds.toFixed(1)} s; the relay got ${direct().length} of them + ${digests().length} digest(s) summarising ${counted()}; ` +
        `rate: ${RATE_SENT} sent, ${directRate().length} delivered, the rest summarised; lost ${unaccounted.length}`,
    );
    // The queue is empty again, and /metrics counted the held messages.
    const counts = (await postroom.api<Record<string, number>>('GET', '/api/v1/queue/counts')).body;
    expect(counts).toMatchObject({ queued: 0, deferred: 0, hold: 0, sending: 0 });
    const metrics = await (await fetch(`${postroom.baseUrl}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    expect(metric('postroom_messages_held_back_total{reason="duplicate"}') + metric('postroom_messages_held_back_total{reason="rate"}')).toBe(summarised.size);
    expect(metric('postroom_storm_digests_total')).toBe(digests().length);
  });
});
