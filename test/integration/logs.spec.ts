import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { Page, decodeCursor } from '../../src/common/pagination.js';
import type { Sql } from '../../src/database/sql.js';
import { EventFilter, EventLogService, EventView, NewEvent, isEventCursor } from '../../src/events/event-log.service.js';
import { MailLogEvent } from '../../src/mail-log/mail-log.entity.js';
import { MailLogFilter, MailLogService, MailLogView, NewMailLogEntry, isMailLogCursor, parseLineKind } from '../../src/mail-log/mail-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';

const EVENTS: MailLogEvent[] = ['received', 'sent', 'deferred', 'bounced', 'rejected'];
const BASE = Date.parse('2025-06-01T10:00:00.000Z');
const minute = (i: number) => new Date(BASE + i * 60_000);

/** Row i of the mail log: one a minute from BASE, events in turn, ten rows per queue id. */
function entry(i: number): NewMailLogEntry {
  const special: Record<number, Partial<NewMailLogEntry>> = {
    30: { recipient: 'Alice.Smith@Example.NET' },
    31: { sender: 'alice.smith@example.net' },
    40: { recipient: 'a_b@example.net' },
    41: { recipient: 'axb@example.net' },
    42: { recipient: '100%@example.net' },
    43: { recipient: '1000@example.net' },
    44: { recipient: 'back\\slash@example.net' },
    // notification channels' posts (a routing rule's copies)
    51: { recipient: 'channel:1', relay: 'Phone' },
    56: { recipient: 'channel:12', relay: 'Webhook' },
    61: { recipient: 'channel:1', relay: 'Phone' },
  };
  return {
    at: minute(i),
    queueId: `QID${String(Math.floor(i / 10)).padStart(2, '0')}`,
    messageId: `<m${i}@example.com>`,
    event: EVENTS[i % 5]!,
    sender: `sender${i % 3}@example.com`,
    recipient: `user${i}@example.net`,
    relay: i % 5 === 0 ? null : 'smtp.example.com[192.0.2.1]:587',
    size: 1000 + i,
    delayMs: i % 5 === 0 ? null : i * 10,
    attempt: i % 5 === 0 ? null : 1,
    reply: i % 5 === 0 ? null : `250 2.0.0 Ok ${i}`,
    clientAddress: i % 5 === 0 ? '127.0.0.1' : null,
    subject: i % 5 === 0 ? `Subject ${i}` : null,
    ...special[i],
  };
}

describe('MailLogService (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let mailLog: MailLogService;
  /** The database id of row i. */
  let idOf: string[];

  beforeAll(async () => {
    let sql: Sql;
    ({ ds, sql, close } = await openTestDataSource());
    mailLog = new MailLogService(sql, new MetricsService(silentLogger));
    // three appends, as the intake does
    await mailLog.append(Array.from({ length: 40 }, (_, i) => entry(i)));
    await mailLog.append(Array.from({ length: 40 }, (_, i) => entry(40 + i)));
    await mailLog.append(Array.from({ length: 40 }, (_, i) => entry(80 + i)));
    await mailLog.append([]);
    const rows: { id: string }[] = await ds.query(`SELECT id::text AS id FROM mail_log ORDER BY mail_log.id`);
    idOf = rows.map((r) => r.id);
  });

  afterAll(async () => {
    await close?.();
  });

  /** The row numbers (i) of a list of views, via their message ids. */
  const rowsOf = (items: MailLogView[]) => items.map((v) => Number(/^<m(\d+)@/.exec(v.messageId!)![1]));

  async function allPages(filter: Omit<MailLogFilter, 'cursor'>): Promise<Page<MailLogView>[]> {
    const pages: Page<MailLogView>[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 50; guard++) {
      const page = await mailLog.list({ ...filter, cursor });
      pages.push(page);
      if (page.nextCursor === null) return pages;
      cursor = decodeCursor(page.nextCursor, isMailLogCursor);
    }
    throw new Error('paging did not end');
  }

  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => to - k); // to..from, newest first

  it('appends every entry, in order, with every field', async () => {
    expect(idOf).toHaveLength(120);
    const page = await mailLog.list({ queueId: 'QID04', limit: 50 });
    const row42 = page.items.find((v) => v.messageId === '<m42@example.com>');
    expect(row42).toEqual({
      id: idOf[42],
      at: '2025-06-01T10:42:00.000Z',
      queueId: 'QID04',
      messageId: '<m42@example.com>',
      event: 'deferred',
      from: 'sender0@example.com',
      to: '100%@example.net',
      originalTo: null,
      relay: 'smtp.example.com[192.0.2.1]:587',
      size: 1042,
      delayMs: 420,
      attempt: 1,
      reply: '250 2.0.0 Ok 42',
      clientAddress: null,
      subject: null,
      detail: null,
      notice: null,
    });
    const row40 = page.items.find((v) => v.messageId === '<m40@example.com>');
    expect(row40).toMatchObject({ event: 'received', relay: null, delayMs: null, attempt: null, reply: null, clientAddress: '127.0.0.1', subject: 'Subject 40' });
  });

  it('lists newest first and pages 120 entries by 50 as 50, 50, 20 with no duplicates or gaps', async () => {
    const pages = await allPages({ limit: 50 });
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 20]);
    expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
    const all = pages.flatMap((p) => p.items);
    expect(rowsOf(all)).toEqual(range(0, 119));
    expect(all.map((v) => v.id)).toEqual([...idOf].reverse());
  });

  it('ends exactly at a page boundary without an empty page', async () => {
    const pages = await allPages({ limit: 40 });
    expect(pages.map((p) => p.items.length)).toEqual([40, 40, 40]);
    expect(pages[2]!.nextCursor).toBeNull();
  });

  it('filters by event', async () => {
    const page = await mailLog.list({ event: 'sent', limit: 50 });
    expect(page.nextCursor).toBeNull();
    expect(rowsOf(page.items)).toEqual(range(0, 119).filter((i) => i % 5 === 1));
    expect(page.items.every((v) => v.event === 'sent')).toBe(true);

    const received = await allPages({ event: 'received', limit: 10 });
    expect(received.map((p) => p.items.length)).toEqual([10, 10, 4]);
    expect(rowsOf(received.flatMap((p) => p.items))).toEqual(range(0, 119).filter((i) => i % 5 === 0));
  });

  it('filters by address: a substring of sender or recipient, case-insensitive', async () => {
    expect(rowsOf((await mailLog.list({ address: 'ALICE.smith', limit: 50 })).items)).toEqual([31, 30]);
    expect(rowsOf((await mailLog.list({ address: 'user11', limit: 50 })).items)).toEqual([119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 11]);
    const sender2 = await allPages({ address: 'SENDER2@', limit: 50 });
    expect(rowsOf(sender2.flatMap((p) => p.items))).toEqual(range(0, 119).filter((i) => i % 3 === 2));
  });

  it('takes LIKE wildcards and backslashes in the address literally', async () => {
    const ids = async (address: string) => rowsOf((await mailLog.list({ address, limit: 200 })).items);
    expect(await ids('a_b')).toEqual([40]);
    expect(await ids('_')).toEqual([40]);
    expect(await ids('100%')).toEqual([42]);
    expect(await ids('%')).toEqual([42]);
    expect(await ids('k\\s')).toEqual([44]);
    expect(await ids('\\')).toEqual([44]);
    expect(await ids('%@example.net')).toEqual([42]);
  });

  it("filters by kind: mail's lines, every channel's, or one channel's exactly", async () => {
    const ids = async (kind: MailLogFilter['kind'], event?: MailLogEvent) => rowsOf((await allPages({ kind, event, limit: 50 })).flatMap((p) => p.items));
    expect(await ids('channel')).toEqual([61, 56, 51]);
    expect(await ids('channel:1')).toEqual([61, 51]);
    expect(await ids('channel:12')).toEqual([56]);
    expect(await ids('channel:2')).toEqual([]);
    expect(await ids('mail', 'sent')).toEqual(range(0, 119).filter((i) => i % 5 === 1 && ![51, 56, 61].includes(i)));
    // An address filter is a contains-match: channel:1 finds channel:12's line too.
    expect(rowsOf((await mailLog.list({ address: 'channel:1', limit: 50 })).items)).toEqual([61, 56, 51]);
  });

  it('takes mail, channel or channel:<id> as a kind, and nothing else', () => {
    expect(['mail', 'channel', 'channel:1', 'channel:12'].map(parseLineKind)).toEqual(['mail', 'channel', 'channel:1', 'channel:12']);
    expect(['Mail', 'channel:', 'channel:0', 'channel:01', 'channel:1e3', 'channel:-1', 'channel:1 ', 'phone'].map(parseLineKind)).toEqual(Array(8).fill(null));
  });

  it('filters by queue id and combines filters', async () => {
    expect(rowsOf((await mailLog.list({ queueId: 'QID03', limit: 50 })).items)).toEqual(range(30, 39));
    expect(rowsOf((await mailLog.list({ queueId: 'QID03', event: 'bounced', limit: 50 })).items)).toEqual([38, 33]);
    expect(rowsOf((await mailLog.list({ queueId: 'QID03', address: 'alice', limit: 50 })).items)).toEqual([31, 30]);
    expect((await mailLog.list({ queueId: 'NOPE', limit: 50 })).items).toEqual([]);
  });

  it('filters by time: since is inclusive, until exclusive', async () => {
    expect(rowsOf((await mailLog.list({ since: minute(100), limit: 50 })).items)).toEqual(range(100, 119));
    expect(rowsOf((await mailLog.list({ until: minute(10), limit: 50 })).items)).toEqual(range(0, 9));
    expect(rowsOf((await mailLog.list({ since: minute(10), until: minute(20), limit: 50 })).items)).toEqual(range(10, 19));
    expect(rowsOf((await mailLog.list({ since: new Date(BASE + 10 * 60_000 + 1), until: minute(12), limit: 50 })).items)).toEqual([11]);
    const pages = await allPages({ since: minute(5), until: minute(65), event: 'sent', limit: 5 });
    expect(pages.map((p) => p.items.length)).toEqual([5, 5, 2]);
    expect(rowsOf(pages.flatMap((p) => p.items))).toEqual(range(5, 64).filter((i) => i % 5 === 1));
  });

  it('gives the latest delivery outcome (sent, deferred or bounced) by id, not by the text of the id', async () => {
    const last = await mailLog.lastOutcome();
    expect(last).toMatchObject({ id: idOf[118], event: 'bounced', messageId: '<m118@example.com>' });
  });

  it("tells a message's story oldest first", async () => {
    const story = await mailLog.story('QID07');
    expect(rowsOf(story)).toEqual([70, 71, 72, 73, 74, 75, 76, 77, 78, 79]);
    expect(story.map((v) => v.event)).toEqual(['received', 'sent', 'deferred', 'bounced', 'rejected', 'received', 'sent', 'deferred', 'bounced', 'rejected']);
    expect(story.map((v) => v.id)).toEqual(idOf.slice(70, 80));
    expect(await mailLog.story('NOPE')).toEqual([]);
  });
});

describe('EventLogService (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let events: EventLogService;
  let mark: Date;

  const LEVELS = ['info', 'warning', 'error'] as const;
  const SOURCES = ['queue', 'settings', 'delivery', 'system'] as const;
  const event = (i: number): NewEvent => ({ level: LEVELS[i % 3]!, source: SOURCES[i % 4]!, message: `event ${i}`, details: { n: i, nested: { tag: `t${i}` } } });

  beforeAll(async () => {
    let sql: Sql;
    ({ ds, sql, close } = await openTestDataSource());
    events = new EventLogService(sql, silentLogger);
    for (let i = 0; i < 60; i++) await events.record(event(i));
    // a point in time between the first 60 events and the last 60, on the database's clock
    await new Promise((r) => setTimeout(r, 30));
    const [row] = (await ds.query(`SELECT clock_timestamp() AS t`)) as { t: Date }[];
    mark = row!.t;
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 60; i < 120; i++) await events.record(event(i));
  });

  afterAll(async () => {
    await close?.();
  });

  const nOf = (items: EventView[]) => items.map((v) => v.details.n as number);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => to - k);

  async function allPages(filter: Omit<EventFilter, 'cursor'>): Promise<Page<EventView>[]> {
    const pages: Page<EventView>[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 50; guard++) {
      const page = await events.list({ ...filter, cursor });
      pages.push(page);
      if (page.nextCursor === null) return pages;
      cursor = decodeCursor(page.nextCursor, isEventCursor);
    }
    throw new Error('paging did not end');
  }

  it('records events with their details and lists them newest first', async () => {
    const page = await events.list({ limit: 3 });
    expect(page.items.map(({ id: _id, at: _at, ...rest }) => rest)).toEqual([
      { level: 'error', source: 'system', message: 'event 119', details: { n: 119, nested: { tag: 't119' } } },
      { level: 'warning', source: 'delivery', message: 'event 118', details: { n: 118, nested: { tag: 't118' } } },
      { level: 'info', source: 'settings', message: 'event 117', details: { n: 117, nested: { tag: 't117' } } },
    ]);
    expect(page.items.every((v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v.at))).toBe(true);
    expect(page.nextCursor).not.toBeNull();
  });

  it('pages 120 events by 50 as 50, 50, 20 with no duplicates or gaps', async () => {
    const pages = await allPages({ limit: 50 });
    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 20]);
    expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
    const all = pages.flatMap((p) => p.items);
    expect(nOf(all)).toEqual(range(0, 119));
    expect(new Set(all.map((v) => v.id)).size).toBe(120);
  });

  it('filters by level and by source, alone and together, across pages', async () => {
    const errors = await allPages({ level: 'error', limit: 15 });
    expect(errors.map((p) => p.items.length)).toEqual([15, 15, 10]);
    expect(nOf(errors.flatMap((p) => p.items))).toEqual(range(0, 119).filter((i) => i % 3 === 2));

    expect(nOf((await events.list({ source: 'settings', limit: 50 })).items)).toEqual(range(0, 119).filter((i) => i % 4 === 1));
    expect(nOf((await events.list({ level: 'warning', source: 'queue', limit: 50 })).items)).toEqual(range(0, 119).filter((i) => i % 3 === 1 && i % 4 === 0));
    expect((await events.list({ source: 'listener', limit: 50 })).items).toEqual([]);
  });

  it('filters by time: since is inclusive, until exclusive', async () => {
    const after = await allPages({ since: mark, limit: 50 });
    expect(nOf(after.flatMap((p) => p.items))).toEqual(range(60, 119));
    const before = await allPages({ until: mark, limit: 50 });
    expect(nOf(before.flatMap((p) => p.items))).toEqual(range(0, 59));

    expect(nOf((await events.list({ since: mark, level: 'error', limit: 50 })).items)).toEqual(range(60, 119).filter((i) => i % 3 === 2));
  });

  it('writes inside the caller transaction, so a rollback takes the event with it', async () => {
    await ds
      .transaction(async (tx) => {
        await events.record({ level: 'info', source: 'queue', message: 'rolled back' }, tx);
        throw new Error('abort');
      })
      .catch(() => undefined);
    const rows: unknown[] = await ds.query(`SELECT id FROM event WHERE message = 'rolled back'`);
    expect(rows).toEqual([]);
  });

  it('recordSafely swallows a failed write instead of throwing, and record does throw', async () => {
    const bad = { level: 'fatal', source: 'system', message: 'bad level' } as unknown as NewEvent;
    await expect(events.record(bad)).rejects.toThrow(/check constraint/);
    await expect(events.recordSafely(bad)).resolves.toBeUndefined();
    const rows: unknown[] = await ds.query(`SELECT id FROM event WHERE message = 'bad level'`);
    expect(rows).toEqual([]);
  });
});
