import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { q, renderView } from '../../web/htmx.js';
import { csvRecord } from '../../web/csv.js';
import { errorList, pageSizeOptions, pageUrl, pagerLinks, pushCanonicalUrl, readLogQuery, readTextFilter } from '../../web/log-paging.js';
import { MailLogEvent } from '../../mail-log/mail-log.entity.js';
import { ChannelsService } from '../../channels/channels.service.js';
import { channelIdOf, channelRecipient } from '../../common/channel-recipient.js';
import { LINE_KINDS, LINE_KIND_RULE, LineKind, MAIL_LOG_EVENTS, MailLogService, MailLogView, parseLineKind } from '../../mail-log/mail-log.service.js';

const EVENT_LABELS: Record<MailLogEvent, string> = {
  received: 'Received',
  sent: 'Sent',
  deferred: 'Deferred',
  bounced: 'Bounced',
  rejected: 'Rejected',
  held: 'Held',
  released: 'Released',
  deleted: 'Deleted',
  digested: 'Digested',
  test: 'Test email',
};

const KIND_LABELS: Record<(typeof LINE_KINDS)[number], string> = { mail: 'Mail', channel: 'Notification channels' };

const FIELD_LABELS: Record<string, string> = { event: 'Status', kind: 'Lines', address: 'Address', q: 'Search' };

/** The Mail Log page: every reception and delivery outcome, newest first, filtered and paged. */
@Controller('mail-log')
export class MailLogPageController {
  constructor(
    private readonly mailLog: MailLogService,
    private readonly channels: ChannelsService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { timeZone, query, filter, filters, invalid, filtered } = this.read(req);
    const page = invalid ? { items: [], nextCursor: null } : await this.mailLog.list(filter);
    if (invalid) res.status(400);
    pushCanonicalUrl(req, res, '/mail-log', filters);
    const { values, errors } = query;
    renderView(req, res, 'pages/mail-log/index', 'fragments/mail-log/table', {
      title: 'Mail Log',
      nav: 'mail-log',
      timeZone,
      values,
      errors,
      errorList: errorList(errors, FIELD_LABELS),
      events: MAIL_LOG_EVENTS.map((value) => ({ value, label: EVENT_LABELS[value], selected: value === values.event })),
      kinds: await this.kindOptions(values.kind),
      pageSizes: pageSizeOptions(query.limit),
      items: page.items,
      filtered,
      paged: Boolean(query.cursor || query.before),
      ...pagerLinks('/mail-log', filters, query, page),
      csvUrl: pageUrl('/mail-log/export.csv', { ...filters, limit: undefined }),
    });
  }

  /**
   * The filtered mail log as CSV (newest first, every page up to EXPORT_ROWS), with times in
   * ISO 8601: for a spreadsheet or a ticket. Bad filters get the page's 400 instead.
   */
  @Get('export.csv')
  async csv(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { filter, invalid } = this.read(req);
    if (invalid) return this.page(req, res);
    res.type('text/csv; charset=utf-8').setHeader('Content-Disposition', 'attachment; filename="mail-log.csv"');
    res.write(csvRecord(CSV_COLUMNS.map(([header]) => header)));
    let cursor: string | undefined;
    for (let written = 0; written < EXPORT_ROWS; ) {
      const page = await this.mailLog.list({ ...filter, cursor, before: undefined, limit: Math.min(500, EXPORT_ROWS - written) });
      for (const entry of page.items) res.write(csvRecord(CSV_COLUMNS.map(([, value]) => value(entry))));
      written += page.items.length;
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    res.end();
  }

  /**
   * The Lines choices: mail, every channel's, then each channel by name; a channel that is gone
   * keeps its lines, so the one asked for is listed by its id.
   */
  private async kindOptions(chosen: string | undefined) {
    const names = await this.channels.names();
    const ids = [...names.keys()].sort((a, b) => a - b);
    const asked = chosen === undefined ? null : channelIdOf(chosen);
    if (asked !== null && !names.has(asked)) ids.push(asked);
    return [
      ...LINE_KINDS.map((value) => ({ value, label: KIND_LABELS[value] })),
      ...ids.map((id) => ({ value: channelRecipient(id), label: `Channel: ${names.get(id) ?? `#${id} (deleted)`}` })),
    ].map((o) => ({ ...o, selected: o.value === chosen }));
  }

  /** The filters of the page and of its CSV, from the query string, with a reason per bad one. */
  private read(req: Request) {
    const timeZone = appTimeZone();
    const query = readLogQuery(req, timeZone);
    const { errors, values } = query;

    const rawEvent = q(req, 'event') ?? q(req, 'status');
    let event: MailLogEvent | undefined;
    if (rawEvent !== undefined) {
      values.event = rawEvent;
      if ((MAIL_LOG_EVENTS as readonly string[]).includes(rawEvent)) event = rawEvent as MailLogEvent;
      else errors.event = `must be one of ${MAIL_LOG_EVENTS.join(', ')}`;
    }
    const rawKind = q(req, 'kind');
    let kind: LineKind | undefined;
    if (rawKind !== undefined) {
      values.kind = rawKind;
      kind = parseLineKind(rawKind) ?? undefined;
      if (!kind) errors.kind = LINE_KIND_RULE;
    }
    const address = readTextFilter(req, 'address', query);
    const text = readTextFilter(req, 'q', query);
    return {
      timeZone,
      query,
      filter: { event, kind, address, text, since: query.since, until: query.until, cursor: query.cursor, before: query.before, limit: query.limit },
      filters: { event: values.event, kind: values.kind, q: values.q, address: values.address, since: values.since, until: values.until, limit: values.limit },
      invalid: Object.keys(errors).length > 0,
      filtered: Boolean(event || kind || address || text || query.since || query.until),
    };
  }
}

/** At most this many rows in one CSV download. */
const EXPORT_ROWS = 100_000;

const CSV_COLUMNS: [string, (e: MailLogView) => string | number | null][] = [
  ['at', (e) => e.at],
  ['event', (e) => e.event],
  ['queue_id', (e) => e.queueId],
  ['message_id', (e) => e.messageId],
  ['from', (e) => e.from],
  ['to', (e) => e.to],
  ['original_to', (e) => e.originalTo],
  ['subject', (e) => e.subject],
  ['relay', (e) => e.relay],
  ['size', (e) => e.size],
  ['delay_ms', (e) => e.delayMs],
  ['attempt', (e) => e.attempt],
  ['reply', (e) => e.reply],
  ['detail', (e) => e.detail],
  ['client_address', (e) => e.clientAddress],
];

