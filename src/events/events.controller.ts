import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { decodeCursor, parseEnum, parseLimit, parseText, parseTime } from '../common/pagination.js';
import { EventLogService, isEventCursor } from './event-log.service.js';
@Controller('api/v1/events')
@UseGuards(ApiTokenGuard)
export class EventsController {
  constructor(private readonly events: EventLogService) {}
  @Get()
  list(@Query() q: Record<string, unknown>) {
    return this.events.list({
      level: parseEnum(q.level, 'level', ['info', 'warning', 'error'] as const),
      source: parseText(q.source, 'source'),
      since: parseTime(q.since, 'since'),
      until: parseTime(q.until, 'until'),
      cursor: decodeCursor(q.cursor, isEventCursor),
      limit: parseLimit(q.limit),
    });
  }
}
