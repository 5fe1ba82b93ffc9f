import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { q, renderView } from '../../web/htmx.js';
import { errorList, pageSizeOptions, pagerLinks, pushCanonicalUrl, readLogQuery } from '../../web/log-paging.js';
import { EVENT_LEVELS, EVENT_SOURCES, EventLevel, EventSource } from '../../events/event.entity.js';
import { EventLogService, EventView } from '../../events/event-log.service.js';

const LEVEL_LABELS: Record<EventLevel, string> = { info: 'Info', warning: 'Warning', error: 'Error' };
const SOURCE_LABELS: Record<EventSource, string> = {
  listener: 'SMTP listener',
  maildrop: 'Maildrop (sendmail)',
  delivery: 'Delivery',
  queue: 'Queue',
  settings: 'Settings',
  system: 'System',
  api: 'API',
};
const FIELD_LABELS: Record<string, string> = { level: 'Level', source: 'Source' };

/** The Logs page: the system event log (listener, delivery, settings, queue actions, logins). */
@Controller('logs')
export class EventsPageController {
  constructor(private readonly events: EventLogService) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response): Promise<void> {
    const timeZone = appTimeZone();
    const query = readLogQuery(req, timeZone);
    const { errors, values } = query;

    const rawLevel = q(req, 'level');
    let level: EventLevel | undefined;
    if (rawLevel !== undefined) {
      values.level = rawLevel;
      if ((EVENT_LEVELS as readonly string[]).includes(rawLevel)) level = rawLevel as EventLevel;
      else errors.level = `must be one of ${EVENT_LEVELS.join(', ')}`;
    }
    const rawSource = q(req, 'source');
    let source: EventSource | undefined;
    if (rawSource !== undefined) {
      values.source = rawSource;
      if ((EVENT_SOURCES as readonly string[]).includes(rawSource)) source = rawSource as EventSource;
      else errors.source = `must be one of ${EVENT_SOURCES.join(', ')}`;
    }

    const filters = { level: values.level, source: values.source, since: values.since, until: values.until, limit: values.limit };
    const invalid = Object.keys(errors).length > 0;
    const page = invalid
      ? { items: [], nextCursor: null }
      : await this.events.list({ level, source, since: query.since, until: query.until, cursor: query.cursor, before: query.before, limit: query.limit });
    if (invalid) res.status(400);
    pushCanonicalUrl(req, res, '/logs', filters);

    renderView(req, res, 'pages/events/index', 'fragments/events/table', {
      title: 'Logs',
      nav: 'logs',
      timeZone,
      values,
      errors,
      errorList: errorList(errors, FIELD_LABELS),
      levels: EVENT_LEVELS.map((value) => ({ value, label: LEVEL_LABELS[value], selected: value === values.level })),
      sources: EVENT_SOURCES.map((value) => ({ value, label: SOURCE_LABELS[value], selected: value === values.source })),
      pageSizes: pageSizeOptions(query.limit),
      items: page.items.map(eventRow),
      filtered: Boolean(level || source || query.since || query.until),
      paged: Boolean(query.cursor || query.before),
      ...pagerLinks('/logs', filters, query, page),
    });
  }
}

/** An event for the table: its details as pretty JSON and a one-line preview (escaped by the view). */
function eventRow(e: EventView) {
  const entries = Object.entries(e.details ?? {});
  const preview = entries
    .slice(0, 3)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return {
    ...e,
    sourceLabel: (SOURCE_LABELS as Record<string, string>)[e.source] ?? e.source,
    hasDetails: entries.length > 0,
    detailsPreview: preview.length > 90 ? preview.slice(0, 89) + '…' : entries.length > 3 ? preview + ', …' : preview,
    detailsJson: JSON.stringify(e.details, null, 2),
  };
}
