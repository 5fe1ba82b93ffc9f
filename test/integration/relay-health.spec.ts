import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { FailoverTransport } from '../../src/delivery/failover-transport.js';
import type { MailTransport, TransportError } from '../../src/delivery/transport.js';
import { RelayHealthService } from '../../src/relays/relay-health.service.js';
import { count } from './support.js';

/** Per-relay health in memory and in relay_health, as two instances on one database see it. */
describe('RelayHealthService (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let events: EventLogService;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    events = new EventLogService(sqlOf(ds), silentLogger);
  });

  afterAll(async () => {
    await close?.();
  });

  it('adds up the counts of two instances, keeps the latest failure with its reason, and says healthy once a success is newer', async () => {
    const a = new RelayHealthService(ds, events, silentLogger);
    const b = new RelayHealthService(ds, events, silentLogger);
    const relay = 'relay.example.com:587';

    a.failed('primary', relay, 'connection', 'connect ECONNREFUSED 192.0.2.1:587');
    expect(a.failingSince('primary', relay)).toEqual(expect.any(Number));
    expect(a.failingSince('primary', 'other:25')).toBeUndefined();
    await a.flush(); // a state change is written at once (awaited here)
    let seen = await b.read([{ key: 'primary', relay }]);
    expect(seen.get('primary')).toMatchObject({ status: 'failing', lastFailureKind: 'connection', lastFailureReason: 'connect ECONNREFUSED 192.0.2.1:587', failures: 1, successes: 0 });

    await new Promise((r) => setTimeout(r, 5));
    b.succeeded('primary', relay, 120);
    b.succeeded('primary', relay, 80);
    b.succeeded('primary', relay, 100);
    a.failed('primary', relay, 'timeout', 'Connection timeout'); // still failing for a: no new event
    await Promise.all([a.flush(), b.flush()]);
    seen = await a.read([{ key: 'primary', relay }]);
    const h = seen.get('primary')!;
    expect(h).toMatchObject({ successes: 3, failures: 2, lastFailureKind: 'timeout', lastFailureReason: 'Connection timeout' });
    expect(h.status).toBe(new Date(h.lastFailureAt!) > new Date(h.lastSuccessAt!) ? 'failing' : 'healthy');

    await new Promise((r) => setTimeout(r, 5));
    a.succeeded('primary', relay, 40);
    seen = await b.read([{ key: 'primary', relay }]);
    expect(seen.get('primary')).toMatchObject({ status: 'healthy', successes: 4, failures: 2, lastFailureReason: 'Connection timeout', lastLatencyMs: 40 });
    expect(a.failingSince('primary', relay)).toBeUndefined();

    const logged: { level: string; message: string }[] = await ds.query(`SELECT level, message FROM event WHERE source = 'delivery' ORDER BY id`);
    expect(logged).toEqual([
      { level: 'warning', message: `Relay ${relay} is failing (connection): connect ECONNREFUSED 192.0.2.1:587` },
      { level: 'info', message: `Relay ${relay} is working again` },
    ]);
  });

  it('writes at most once per few seconds while nothing changes state (not a write per message)', async () => {
    const a = new RelayHealthService(ds, events, silentLogger);
    const relay = 'busy.example.com:25';
    a.succeeded('7', relay, 10); // first use: no state change worth an immediate write (unknown → healthy)
    for (let i = 0; i < 50; i++) a.succeeded('7', relay, 10 + i);
    await new Promise((r) => setTimeout(r, 50));
    expect(await count(ds, 'relay_health', 'relay_key = $1', ['7'])).toBe(0);
    const seen = await a.read([{ key: '7', relay }]); // a read writes what is pending first
    expect(seen.get('7')).toMatchObject({ status: 'healthy', successes: 51, latencyMs: expect.any(Number), lastLatencyMs: 59 });
    await a.onApplicationShutdown();
  });

  it('counts a recipient refused with 450 (the relay stays healthy, no event); a refused connection makes it failing', async () => {
    const a = new RelayHealthService(ds, events, silentLogger);
    const relay = 'mx.refusals.example.com:25';
    let next: () => TransportError | undefined = () => undefined;
    const transport: MailTransport = {
      description: relay,
      async send(envelope) {
        const err = next();
        if (err) throw err;
        return { accepted: envelope.to, rejected: [], reply: '250 2.0.0 Ok', relay };
      },
      close() {},
    };
    const failover = new FailoverTransport([{ key: '11', transport }], { health: a });
    const envelope = { from: 'nas@example.com', to: ['ops@example.com'] };
    const raw = Buffer.from('Subject: x\r\n\r\nx\r\n');
    const eventsBefore = await count(ds, 'event', `source = 'delivery'`);

    await failover.send(envelope, raw);
    next = () =>
      Object.assign(new Error("Can't send mail - all recipients were rejected: 450 4.2.1 Mailbox busy"), {
        code: 'EENVELOPE',
        responseCode: 450,
        response: '450 4.2.1 Mailbox busy',
        command: 'RCPT TO',
        rejectedErrors: [{ recipient: 'ops@example.com', responseCode: 450, response: '450 4.2.1 Mailbox busy', message: 'Recipient command failed' }],
      });
    await expect(failover.send(envelope, raw)).rejects.toMatchObject({ responseCode: 450 }); // deferred, as before
    let h = (await a.read([{ key: '11', relay }])).get('11')!;
    expect(h).toMatchObject({ status: 'healthy', failures: 0, recipientRefusals: 1, lastFailureAt: null });
    expect(a.failingSince('11', relay)).toBeUndefined();
    expect(await count(ds, 'event', `source = 'delivery'`)).toBe(eventsBefore);

    next = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET', command: 'CONN' });
    await expect(failover.send(envelope, raw)).rejects.toMatchObject({ code: 'ESOCKET' });
    h = (await a.read([{ key: '11', relay }])).get('11')!;
    expect(h).toMatchObject({ status: 'failing', failures: 1, recipientRefusals: 1, lastFailureKind: 'connection' });
    // The event is written beside the delivery, not awaited by it.
    await expect.poll(() => count(ds, 'event', `source = 'delivery' AND message LIKE $1`, [`Relay ${relay} is failing (connection)%`])).toBe(1);
    expect(await count(ds, 'relay_health', `relay_key = '11' AND recipient_refusals = 1`)).toBe(1);
  });

  it('starts over when a relay key gets another address, and forgets a removed relay', async () => {
    const a = new RelayHealthService(ds, events, silentLogger);
    a.failed('9', 'old.example.com:25', 'auth', '535 bad credentials');
    await a.flush();
    a.succeeded('9', 'new.example.com:25', 30);
    const seen = await a.read([{ key: '9', relay: 'new.example.com:25' }]);
    expect(seen.get('9')).toMatchObject({ status: 'healthy', successes: 1, failures: 0, lastFailureAt: null, lastFailureReason: null });
    expect((await a.read([{ key: '9', relay: 'old.example.com:25' }])).get('9')).toMatchObject({ status: 'unknown', successes: 0 });
    await a.forget('9');
    expect(await count(ds, 'relay_health', 'relay_key = $1', ['9'])).toBe(0);
  });
});
