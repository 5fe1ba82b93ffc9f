import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { events, mailLog, queue, queueEntry, submitSmtp, untilState } from './api.js';
import { RawSmtp } from './raw-smtp.js';

/** The default lease: nothing here may wait for one to run out. */
const LEASE_SECONDS = 600;

/** A "relay" that accepts TCP connections and never says a word: a delivery to it hangs. */
class SilentRelay {
  private readonly server = net.createServer((socket) => {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    this.connections++;
  });
  private readonly sockets = new Set<net.Socket>();
  connections = 0;
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Whether a sunk message is the one with this queue id (our Received header names it). */
const carries = (id: string) => (m: { data: Buffer }) => m.data.toString().includes(id);

/**
 * Durability across restarts and crashes of the real process (same database, same ports).
 * The tests run in order on one Postroom, with the default delivery lease: what a dead process
 * held comes back as soon as its database session is gone, not when its lease would end.
 */
describe('restarts and crashes keep the queue', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  const sink = new SmtpSink({ starttls: false });
  const silent = new SilentRelay();

  const relayTo = async (port: number, extra: Record<string, unknown> = {}) => {
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: port, security: 'none', authEnabled: false, ...extra });
    expect(r.status).toBe(200);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    await sink.start();
    await sink.stop(); // down, on a known port
    await silent.start();
    postroom = await new PostroomProcess({ databaseUrl: db.url, env: { DELIVERY_LEASE_SECONDS: String(LEASE_SECONDS) } }).start();
    await relayTo(sink.port);
  });

  afterAll(async () => {
    await postroom?.dispose();
    await sink.stop();
    await silent.stop();
    await db?.drop();
  });

  it('keeps deferred messages, with the same ids, across a graceful restart (SIGTERM)', async () => {
    const ids = [
      await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'one', text: '1' }),
      await submitSmtp(postroom, { from: 'cron@nas.local', to: ['ops@example.com', 'dev@example.com'], subject: 'two', text: '2' }),
    ];
    const before = [await untilState(postroom, ids[0]!, 'deferred'), await untilState(postroom, ids[1]!, 'deferred')];

    await postroom.stop('SIGTERM');
    expect(postroom.child!.exitCode).toBe(0);
    await postroom.start();

    const after = await queue(postroom);
    expect(after.map((e) => e.id).sort()).toEqual([...ids].sort());
    for (const b of before) {
      const a = after.find((e) => e.id === b.id)!;
      expect(a).toMatchObject({ state: 'deferred', to: b.to, attempts: 1, nextAttemptAt: b.nextAttemptAt, lastError: b.lastError });
    }
    const system = await events(postroom, 'source=system');
    expect(system.some((e) => e.message === 'Postroom stopping (SIGTERM)')).toBe(true);

    expect(await postroom.api('DELETE', '/api/v1/queue')).toEqual({ status: 200, body: { count: 2 } });
  });

  it('delivers after a restart a message acknowledged with 250 just before kill -9', async () => {
    const smtp = await RawSmtp.connect(postroom.smtpPort);
    let id = '';
    try {
      expect((await smtp.read()).code).toBe(220);
      expect((await smtp.command('EHLO client.nas.local')).code).toBe(250);
      expect((await smtp.command('MAIL FROM:<cron@nas.local>')).code).toBe(250);
      expect((await smtp.command('RCPT TO:<ops@example.com>')).code).toBe(250);
      expect((await smtp.command('DATA')).code).toBe(354);
      const reply = await smtp.data('From: cron@nas.local\r\nTo: ops@example.com\r\nSubject: acknowledged then crashed\r\n\r\nbody\r\n');
      // Crash at once, before anything else can happen.
      const killed = postroom.stop('SIGKILL');
      await killed;
      expect(reply.code).toBe(250);
      id = /queued as ([0-9A-Z]{17})/.exec(reply.text)![1]!;
    } finally {
      smtp.close();
    }
    expect(postroom.child!.signalCode).toBe('SIGKILL');

    await postroom.start();
    // Committed before the 250: it is there, whatever its state when Node died.
    expect(await queueEntry(postroom, id)).toMatchObject({ id, to: ['ops@example.com'] });
    expect((await mailLog(postroom, `queueId=${id}&event=received`)).length).toBe(1);

    await sink.start();
    expect((await postroom.api('POST', '/api/v1/queue/flush')).status).toBe(200);
    // Due now, whether it was queued or claimed ('sending') when Node died, or is being tried
    // again by the new process (an attempt that began while the sink was down and fails after
    // the flush is tried again at once).
    await postroom.until(async () => sink.messages.some(carries(id)), 'delivery to the sink', 15_000);
    const msg = sink.messages.find(carries(id))!;
    expect(msg.to).toEqual(['ops@example.com']);
    expect(msg.data.toString()).toContain('Subject: acknowledged then crashed');
    await postroom.until(async () => (await mailLog(postroom, `queueId=${id}&event=sent`)).length === 1, 'the sent entry');
    expect(await queueEntry(postroom, id)).toBeUndefined();
  }, 60_000);

  it("takes back at once a message that was 'sending' when the process was killed, long before its lease would end", async () => {
    await relayTo(silent.port, { timeoutSeconds: 120 });
    const id = await submitSmtp(postroom, { from: 'cron@nas.local', to: 'ops@example.com', subject: 'in flight at the crash', text: 'x' });
    await untilState(postroom, id, 'sending');
    await postroom.until(async () => silent.connections > 0, 'the connection to the silent relay');
    // The next attempt goes to the sink; this one hangs on the silent relay until the crash.
    await relayTo(sink.port, { timeoutSeconds: 30 });
    const before = sink.messages.length;

    await postroom.stop('SIGKILL');
    await postroom.start();
    // The dead process's presence lock went with its database session: its lease no longer holds the message.
    await postroom.until(async () => sink.messages.some(carries(id)), 'delivery after the restart', 15_000);
    expect(sink.messages.length).toBe(before + 1);
    expect(sink.messages.find(carries(id))!.to).toEqual(['ops@example.com']);

    const sent = await postroom.until(async () => {
      const e = await mailLog(postroom, `queueId=${id}&event=sent`);
      return e.length ? e : undefined;
    }, 'the sent entry');
    // The attempt the crash interrupted left no trace and counted for nothing.
    expect(sent[0]!.attempt).toBe(1);
    expect((await mailLog(postroom, `queueId=${id}`)).map((e) => e.event).sort()).toEqual(['received', 'sent']);
    expect(await queueEntry(postroom, id)).toBeUndefined();
    expect(await queue(postroom, 'state=sending')).toEqual([]);
  }, 60_000);
});
