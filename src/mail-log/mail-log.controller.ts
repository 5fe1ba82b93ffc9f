import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { decodeCursor, parseEnum, parseLimit, parseText, parseTime } from '../common/pagination.js';
import { LINE_KINDS, MAIL_LOG_EVENTS, MailLogService, isMailLogCursor } from './mail-log.service.js';
@Controller('api/v1/mail-log')
@UseGuards(ApiTokenGuard)
export class MailLogController {
  constructor(private readonly mailLog: MailLogService) {}

  @Get()
  list(@Query() q: Record<string, unknown>) {
    return this.mailLog.list({
      event: parseEnum(q.event ?? q.status, 'event', MAIL_LOG_EVENTS),
      kind: parseEnum(q.kind, 'kind', LINE_KINDS),
      address: parseText(q.address, 'address'),
      text: parseText(q.q, 'q'),
      queueId: parseText(q.queueId, 'queueId'),
      since: parseTime(q.since, 'since'),
      until: parseTime(q.until, 'until'),
      cursor: decodeCursor(q.cursor, isMailLogCursor),
      limit: parseLimit(q.limit),
    });
  }
}
