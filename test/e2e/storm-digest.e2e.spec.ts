import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { multipartParts } from '../helpers/digest-parts.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink, SunkMessage } from '../helpers/smtp-sink.js';
import { sql } from '../helpers/sql.js';

const MAX_DUPLICATES = 2;

/**
 * The storm digest end to end, with the compiled app and a real relay: the relay gets the first
 * alerts and then ONE digest that carries every held alert exactly as Postroom stored it — also
 * when Postroom was killed (-9) between holding them and writing the digest.
 */
describe('alert-storm digests carry the held messages', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    const res = await postroom.api('PUT', '/api/v1/settings', {
      relayHost: '127.0.0.1',
      relayPort: sink.port,
      security: 'none',
      fromAddress: 'postroom@nas.example.com',
      stormWindowMinutes: 1,
      stormMaxDuplicates: MAX_DUPLICATES,
      senderRateLimitPerMinute: 0,
    });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await db?.drop();
  });

  /** Five alerts with one subject and five bodies; resolves with their queue ids, in order. */
  async function storm(subject: string): Promise<string[]> {
    const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const info = await client.sendMail({ from: 'zfs@nas.local', to: 'ops@example.com', subject, text: `${subject}: event ${i} of 5 (disk sd${'abcde'[i - 1]})` });
      ids.push(/queued as ([0-9A-Z]{17})/.exec(info.response)![1]!);
    }
    client.close();
    return ids;
  }

  /** The held messages' stored bytes, by queue id. */
  async function heldBodies(ids: string[]): Promise<Map<string, Buffer>> {
    const rows = await sql<{ id: string; data: Buffer }>(db.url, `SELECT m.id, b.data FROM message m JOIN message_body b USING (id) WHERE m.state = 'hold' AND m.id = ANY($1::text[]) ORDER BY m.created_at, m.id`, [ids]);
    return new Map(rows.map((r) => [r.id, r.data]));
  }

  const subjectOf = async (m: SunkMessage) => (await simpleParser(m.data)).subject ?? '';
  async function sunk(subject: string): Promise<{ direct: SunkMessage[]; digests: SunkMessage[] }> {
    const direct: SunkMessage[] = [];
    const digests: SunkMessage[] = [];
    for (const m of sink.messages) {
      const s = await subjectOf(m);
      if (s === subject) direct.push(m);
      else if (s.startsWith('[Postroom digest]') && s.includes(`'${subject}'`)) digests.push(m);
    }
    return { direct, digests };
  }

  /** The digest carries exactly the held messages, byte for byte, oldest first; a mail client sees them as attached messages. */
  async function expectCarries(digest: SunkMessage, held: Map<string, Buffer>, subject: string): Promise<void> {
    const { headers, parts } = multipartParts(digest.data);
    expect(headers).toMatch(/^Content-Type: multipart\/digest; boundary=/m);
    expect(headers).toMatch(/^X-Postroom-Digest: 3$/m);
    expect(parts[0]!.content.toString()).toContain('follow in this digest');
    expect(parts.slice(1).map((p) => p.content.toString('base64'))).toEqual([...held.values()].map((b) => b.toString('base64')));
    const mail = await simpleParser(digest.data);
    expect(mail.subject).toMatch(new RegExp(`^\\[Postroom digest\\] 3 × '${subject}' since \\d\\d:\\d\\d$`));
    const attached = mail.attachments.filter((a) => a.contentType === 'message/rfc822');
    const texts = await Promise.all(attached.map(async (a) => (await simpleParser(a.content)).text?.trim()));
    expect(texts).toEqual([3, 4, 5].map((i) => `${subject}: event ${i} of 5 (disk sd${'abcde'[i - 1]})`));
  }

  it('five alerts, one subject: the relay gets the first two and one digest carrying the other three as they were stored', { timeout: 150_000 }, async () => {
    const ids = await storm('Pool degraded');
    const held = await heldBodies(ids);
    expect([...held.keys()]).toEqual(ids.slice(MAX_DUPLICATES));
    const { digests } = await postroom.until(async () => {
      const s = await sunk('Pool degraded');
      return s.digests.length > 0 && s;
    }, 'the digest', 120_000);
    const { direct } = await sunk('Pool degraded');
    expect(direct).toHaveLength(MAX_DUPLICATES);
    expect(digests).toHaveLength(1);
    await expectCarries(digests[0]!, held, 'Pool degraded');
    expect(await sql(db.url, `SELECT id FROM message WHERE id = ANY($1::text[])`, [ids])).toEqual([]);
  });

  it('kill -9 between the hold and the digest loses nothing: the restarted instance sends the digest with every held message', { timeout: 150_000 }, async () => {
    const ids = await storm('UPS on battery');
    const held = await heldBodies(ids);
    expect(held.size).toBe(5 - MAX_DUPLICATES);
    await postroom.stop('SIGKILL');
    expect(postroom.child!.signalCode).toBe('SIGKILL');
    await postroom.start();
    const { digests } = await postroom.until(async () => {
      const s = await sunk('UPS on battery');
      return s.digests.length > 0 && s;
    }, 'the digest after the restart', 120_000);
    expect(digests).toHaveLength(1);
    await expectCarries(digests[0]!, held, 'UPS on battery');
    const counts = (await postroom.api<Record<string, number>>('GET', '/api/v1/queue/counts')).body;
    expect(counts).toMatchObject({ hold: 0 });
  });
});
