import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { decodeCursor, parseEnum, parseLimit, parseText, parseTime } from '../common/pagination.js';
import { MAIL_LOG_EVENTS, MailLogService, isMailLogCursor } from './mail-log.service.js';

@ApiTags('Mail log')
@ApiBearerAuth()
@Controller('api/v1/mail-log')
@UseGuards(ApiTokenGuard)
export class MailLogController {
  constructor(private readonly mailLog: MailLogService) {}

  @ApiOperation({ summary: 'The mail log, newest first (filters: event, address, q (text in subject, addresses, queue id, Message-ID), queueId, since, until; cursor, limit)' })
  @Get()
  list(@Query() q: Record<string, unknown>) {
    return this.mailLog.list({
      event: parseEnum(q.event ?? q.status, 'event', MAIL_LOG_EVENTS),
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
