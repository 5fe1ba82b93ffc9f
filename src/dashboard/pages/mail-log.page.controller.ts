import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { q, renderView } from '../../web/htmx.js';
import { errorList, pageSizeOptions, pagerLinks, pushCanonicalUrl, readLogQuery, readTextFilter } from '../../web/log-paging.js';
import { MailLogEvent } from '../../mail-log/mail-log.entity.js';
import { MAIL_LOG_EVENTS, MailLogService } from '../../mail-log/mail-log.service.js';

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

const FIELD_LABELS: Record<string, string> = { event: 'Status', address: 'Address' };

/** The Mail Log page: every reception and delivery outcome, newest first, filtered and paged. */
@Controller('mail-log')
export class MailLogPageController {
  constructor(private readonly mailLog: MailLogService) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
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
    const address = readTextFilter(req, 'address', query);

    const filters = { event: values.event, address: values.address, since: values.since, until: values.until, limit: values.limit };
    const invalid = Object.keys(errors).length > 0;
    const page = invalid
      ? { items: [], nextCursor: null }
      : await this.mailLog.list({ event, address, since: query.since, until: query.until, cursor: query.cursor, before: query.before, limit: query.limit });
    if (invalid) res.status(400);
    pushCanonicalUrl(req, res, '/mail-log', filters);

    const filtered = Boolean(event || address || query.since || query.until);
    renderView(req, res, 'pages/mail-log/index', 'fragments/mail-log/table', {
      title: 'Mail Log',
      nav: 'mail-log',
      timeZone,
      values,
      errors,
      errorList: errorList(errors, FIELD_LABELS),
      events: MAIL_LOG_EVENTS.map((value) => ({ value, label: EVENT_LABELS[value], selected: value === values.event })),
      pageSizes: pageSizeOptions(query.limit),
      items: page.items,
      filtered,
      paged: Boolean(query.cursor || query.before),
      ...pagerLinks('/mail-log', filters, query, page),
    });
  }
}

