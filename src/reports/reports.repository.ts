import { Injectable } from '@nestjs/common';
import { channelRecipientSql } from '../common/channel-recipient.js';
import { Sql } from '../database/sql.js';
import type { ReportData } from './report-maths.js';
import type { AddressRow, ChannelRow, DomainRow, EventRow } from './report.types.js';

/** How many domains, problem groups, warnings and errors a report lists at most. */
export const LIST_LIMIT = 100;

interface RawDomain {
  domain: string;
  sent: number;
  bytes: number | string;
  deferrals: number;
  avg: number | null;
  max: number | null;
}

const addressRow = (r: AddressRow): AddressRow => ({ address: r.address ?? '', count: r.count, bytes: Number(r.bytes) });

/** The local hour (0-23) of an instant, with one formatter per call. */
function localHour(timeZone: string): (at: Date) => number {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit' });
  return (at) => Number(f.format(at)) % 24;
}

/**
 * A test email's line: event 'test', or as the test email logged it before that event existed —
 * 'sent' or 'deferred' with no queue id and the test email's subject. A diagnosis, not traffic.
 */
const TEST_LINE = `(event = 'test' OR (queue_id IS NULL AND event IN ('sent', 'deferred') AND subject = 'Postroom test email'))`;

/** A line of a notification channel's delivery (only routing rules add channel recipients), and of mail's. */
const CHANNEL_LINE = channelRecipientSql('recipient');
const MAIL_LINE = `NOT (${CHANNEL_LINE})`;

/**
 * The kind a line counts as: traffic by its event, Postroom's own mail received apart
 * ('notice'), test emails apart ('test'), a channel's outcomes apart ('channel-sent', …).
 */
const KIND = `CASE WHEN ${TEST_LINE} THEN 'test' WHEN event = 'received' AND notice IS NOT NULL THEN 'notice'
  WHEN event IN ('sent', 'deferred', 'bounced') AND ${CHANNEL_LINE} THEN 'channel-' || event ELSE event END`;

const REASON = `left(coalesce(nullif(btrim(reply), ''), '(no reason given)'), 500)`;

/**
 * The SQL of a report. Every query reads one local day of the mail log (through its (at) index,
 * or (event, at) for one kind of entry), aggregates in PostgreSQL and returns small results;
 * they run in parallel on the pool. Each kind of entry is scanned about twice per report.
 */
@Injectable()
export class ReportsRepository {
  constructor(private readonly sql: Sql) {}

  /** The instants the local day starts and ends at (23, 24 or 25 hours apart). */
  async dayBounds(date: string, timeZone: string): Promise<{ start: Date; end: Date }> {
    const rows = await this.sql.rows<{ start: Date; end: Date }>(
      `SELECT ($1::date::timestamp AT TIME ZONE $2) AS start, (($1::date + 1)::timestamp AT TIME ZONE $2) AS "end"`,
      [date, timeZone],
    );
    return rows[0]!;
  }

  async read(date: string, timeZone: string, top: number): Promise<ReportData> {
    const { start, end } = await this.dayBounds(date, timeZone);
    const [byHour, deferredMessages, intake, delivery, problems, channels, warnings, errors] = await Promise.all([
      this.byHour(start, end, timeZone),
      this.deferredMessages(start, end),
      this.senders(start, end, top),
      this.recipients(start, end, top),
      this.problems(start, end),
      this.channels(start, end),
      this.events('warning', start, end),
      this.events('error', start, end),
    ]);
    return { byHour, deferredMessages, sendingHosts: intake.hosts, senders: intake.senders, recipients: delivery.recipients, domains: delivery.domains, problems, channels, warnings, errors };
  }

  /**
   * Counts and sizes per kind of line (KIND: the event, with notices and tests apart) in
   * 15-minute steps from the day's start (date_bin is cheaper per row than AT TIME ZONE); each
   * step is then put in its local hour. Every zone's offset is a
   * multiple of 15 minutes, so a step never straddles two local hours, on DST days included.
   */
  private async byHour(start: Date, end: Date, timeZone: string): Promise<ReportData['byHour']> {
    const rows = await this.sql.rows<{ step: Date; event: string; count: number; bytes: string }>(
      `SELECT date_bin('15 minutes', at, $1) AS step, ${KIND} AS event, count(*)::int AS count, coalesce(sum(size), 0)::text AS bytes
         FROM mail_log WHERE at >= $1 AND at < $2 GROUP BY 1, 2`,
      [start, end],
    );
    const hourOf = localHour(timeZone);
    const out = new Map<string, { hour: number; event: string; count: number; bytes: number }>();
    for (const r of rows) {
      const hour = hourOf(new Date(r.step));
      const key = `${hour} ${r.event}`;
      const cur = out.get(key) ?? { hour, event: r.event, count: 0, bytes: 0 };
      cur.count += r.count;
      cur.bytes += Number(r.bytes);
      out.set(key, cur);
    }
    return [...out.values()];
  }

  private async deferredMessages(start: Date, end: Date): Promise<number> {
    const rows = await this.sql.rows<{ n: number }>(
      `SELECT count(DISTINCT coalesce(queue_id, 'row:' || id))::int AS n FROM mail_log WHERE event = 'deferred' AND at >= $1 AND at < $2 AND NOT ${TEST_LINE} AND ${MAIL_LINE}`,
      [start, end],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Senders of received messages (lower-cased; Postroom's own notices left out): the top N by count and by size and how many
   * there are; and the distinct sending hosts, from the same scan (two grouping sets).
   */
  private async senders(start: Date, end: Date, top: number): Promise<{ senders: ReportData['senders']; hosts: number }> {
    const rows = await this.sql.rows<{ total: number; hosts: number; by_count: AddressRow[]; by_size: AddressRow[] }>(
      `WITH g AS MATERIALIZED (
         SELECT lower(sender) AS address, client_address, GROUPING(client_address) AS by_sender, count(*)::int AS count, sum(size)::bigint AS bytes
           FROM mail_log WHERE event = 'received' AND at >= $1 AND at < $2 AND notice IS NULL
          GROUP BY GROUPING SETS ((lower(sender)), (client_address))),
       s AS (SELECT address, count, bytes FROM g WHERE by_sender = 1)
       SELECT (SELECT count(*) FROM s)::int AS total,
              (SELECT count(*) FROM g WHERE by_sender = 0 AND client_address IS NOT NULL)::int AS hosts,
              (SELECT coalesce(json_agg(x ORDER BY x.count DESC, x.bytes DESC, x.address), '[]') FROM (SELECT * FROM s ORDER BY count DESC, bytes DESC, address LIMIT $3) x) AS by_count,
              (SELECT coalesce(json_agg(x ORDER BY x.bytes DESC, x.count DESC, x.address), '[]') FROM (SELECT * FROM s ORDER BY bytes DESC, count DESC, address LIMIT $3) x) AS by_size`,
      [start, end, top],
    );
    const r = rows[0]!;
    return { senders: { total: r.total, byCount: r.by_count.map(addressRow), bySize: r.by_size.map(addressRow) }, hosts: r.hosts };
  }

  /**
   * Delivery per recipient (lower-cased) from one scan of the day's sent and deferred entries;
   * the top N recipients, how many were delivered to and in how many domains, and the
   * per-domain table (sent, bytes, deferrals, average and maximum delay of the deliveries).
   */
  private async recipients(start: Date, end: Date, top: number): Promise<{ recipients: ReportData['recipients']; domains: DomainRow[] }> {
    const rows = await this.sql.rows<{ total: number; domain_count: number; by_count: AddressRow[]; by_size: AddressRow[]; domains: RawDomain[] }>(
      `WITH r AS MATERIALIZED (
         SELECT lower(recipient) AS address,
                count(*) FILTER (WHERE event = 'sent')::int AS count,
                coalesce(sum(size) FILTER (WHERE event = 'sent'), 0)::bigint AS bytes,
                count(*) FILTER (WHERE event = 'deferred')::int AS deferrals,
                sum(delay_ms) FILTER (WHERE event = 'sent')::bigint AS delay_sum,
                count(delay_ms) FILTER (WHERE event = 'sent')::int AS delay_n,
                max(delay_ms) FILTER (WHERE event = 'sent') AS delay_max
           FROM mail_log WHERE event IN ('sent', 'deferred') AND at >= $1 AND at < $2 AND NOT ${TEST_LINE} AND ${MAIL_LINE} GROUP BY 1),
       d AS (
         SELECT split_part(address, '@', -1) AS domain, sum(count)::int AS sent, sum(bytes)::bigint AS bytes, sum(deferrals)::int AS deferrals,
                sum(delay_sum)::float8 / nullif(sum(delay_n), 0) AS avg, max(delay_max) AS max
           FROM r GROUP BY 1),
       s AS (SELECT address, count, bytes FROM r WHERE count > 0)
       SELECT (SELECT count(*) FROM s)::int AS total,
              (SELECT count(*) FROM d WHERE sent > 0)::int AS domain_count,
              (SELECT coalesce(json_agg(x ORDER BY x.count DESC, x.bytes DESC, x.address), '[]') FROM (SELECT * FROM s ORDER BY count DESC, bytes DESC, address LIMIT $3) x) AS by_count,
              (SELECT coalesce(json_agg(x ORDER BY x.bytes DESC, x.count DESC, x.address), '[]') FROM (SELECT * FROM s ORDER BY bytes DESC, count DESC, address LIMIT $3) x) AS by_size,
              (SELECT coalesce(json_agg(x ORDER BY x.sent DESC, x.deferrals DESC, x.domain), '[]') FROM (SELECT * FROM d ORDER BY sent DESC, deferrals DESC, domain LIMIT ${LIST_LIMIT}) x) AS domains`,
      [start, end, top],
    );
    const r = rows[0]!;
    return {
      recipients: { total: r.total, domains: r.domain_count, byCount: r.by_count.map(addressRow), bySize: r.by_size.map(addressRow) },
      domains: r.domains.map((d) => ({ domain: d.domain, sent: d.sent, bytes: Number(d.bytes), deferrals: d.deferrals, avgDelayMs: d.avg, maxDelayMs: d.max })),
    };
  }

  private async problems(start: Date, end: Date): Promise<ReportData['problems']> {
    return this.sql.rows(
      `SELECT event, reason, count FROM (
         SELECT event, ${REASON} AS reason, count(*)::int AS count,
                row_number() OVER (PARTITION BY event ORDER BY count(*) DESC, ${REASON}) AS rank
           FROM mail_log WHERE event IN ('deferred', 'bounced', 'rejected') AND at >= $1 AND at < $2 AND NOT ${TEST_LINE} AND (event = 'rejected' OR ${MAIL_LINE})
          GROUP BY 1, 2) p
        WHERE rank <= ${LIST_LIMIT}`,
      [start, end],
    );
  }

  /**
   * Per notification channel: posts, deferrals, failures and the most frequent reason of the
   * latter two; its name as of its last line. Read through the channel lines' own index
   * (mail_log_channel_at), not the day's mail deliveries.
   */
  private async channels(start: Date, end: Date): Promise<ChannelRow[]> {
    return this.sql.rows<ChannelRow>(
      `SELECT CASE WHEN substr(recipient, 9) ~ '^[0-9]{1,15}$' THEN substr(recipient, 9)::float8 ELSE 0 END AS id,
              coalesce((array_agg(relay ORDER BY at DESC, id DESC) FILTER (WHERE relay IS NOT NULL))[1], recipient) AS name,
              count(*) FILTER (WHERE event = 'sent')::int AS posted,
              count(*) FILTER (WHERE event = 'deferred')::int AS deferrals,
              count(*) FILTER (WHERE event = 'bounced')::int AS failed,
              mode() WITHIN GROUP (ORDER BY ${REASON}) FILTER (WHERE event <> 'sent') AS problem
         FROM mail_log WHERE event IN ('sent', 'deferred', 'bounced') AND at >= $1 AND at < $2 AND ${CHANNEL_LINE} AND NOT ${TEST_LINE}
        GROUP BY recipient ORDER BY posted DESC, failed DESC, deferrals DESC, id LIMIT ${LIST_LIMIT}`,
      [start, end],
    );
  }

  private async events(level: 'warning' | 'error', start: Date, end: Date): Promise<EventRow[]> {
    const rows = await this.sql.rows<{ id: string; at: Date; source: string; message: string }>(
      `SELECT id::text AS id, at, source, message FROM event WHERE level = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT ${LIST_LIMIT}`,
      [level, start, end],
    );
    return rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), source: r.source, message: r.message }));
  }
}
