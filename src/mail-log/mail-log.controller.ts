import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { decodeCursor, parseEnum, parseLimit, parseText, parseTime } from '../common/pagination.js';
import { InvalidInput } from '../common/domain-errors.js';
import { LINE_KIND_RULE, LineKind, MAIL_LOG_EVENTS, MailLogService, isMailLogCursor, parseLineKind } from './mail-log.service.js';

@Controller('api/v1/mail-log')
@UseGuards(ApiTokenGuard)
export class MailLogController {
  constructor(private readonly mailLog: MailLogService) {}

  @Get()
  list(@Query() q: Record<string, unknown>) {
    return this.mailLog.list({
      event: parseEnum(q.event ?? q.status, 'event', MAIL_LOG_EVENTS),
      kind: kindOf(q.kind),
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

function kindOf(raw: unknown): LineKind | undefined {
  if (raw === undefined || raw === '') return undefined;
  const kind = typeof raw === 'string' ? parseLineKind(raw) : null;
  if (!kind) throw new InvalidInput('Invalid query', { kind: LINE_KIND_RULE });
  return kind;
}
