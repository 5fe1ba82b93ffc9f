import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { InvalidInput } from '../common/domain-errors.js';
import { decodeCursor, parseEnum, parseLimit, parseText } from '../common/pagination.js';
import { isQueueId } from './queue-id.js';
import { MESSAGE_STATES } from './message.entity.js';
import { QueueService } from './queue.service.js';


function queueId(id: string): string {
  if (!isQueueId(id)) throw new InvalidInput('Invalid queue id', { id: 'is not a queue id' });
  return id;
}
@Controller('api/v1/queue')
@UseGuards(ApiTokenGuard)
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  @Get()
  list(@Query() q: Record<string, unknown>) {
    return this.queue.list({
      state: parseEnum(q.state, 'state', MESSAGE_STATES),
      address: parseText(q.address, 'address'),
      text: parseText(q.q, 'q'),
      cursor: decodeCursor(q.cursor, isQueueId),
      limit: parseLimit(q.limit),
    });
  }
  @Get('counts')
  counts() {
    return this.queue.counts();
  }
  @Post('flush')
  @HttpCode(200)
  flushAll() {
    return this.queue.flushAll('api');
  }
  @Delete()
  deleteAll() {
    return this.queue.deleteAll('api');
  }
  @Get(':id')
  get(@Param('id') id: string) {
    return this.queue.get(queueId(id));
  }
  @Delete(':id')
  deleteOne(@Param('id') id: string) {
    return this.queue.deleteOne(queueId(id), 'api');
  }
  @Post(':id/flush')
  @HttpCode(200)
  flushOne(@Param('id') id: string) {
    return this.queue.flushOne(queueId(id), 'api');
  }
  @Post(':id/hold')
  @HttpCode(200)
  hold(@Param('id') id: string) {
    return this.queue.holdOne(queueId(id), 'api');
  }
  @Post(':id/release')
  @HttpCode(200)
  release(@Param('id') id: string) {
    return this.queue.releaseOne(queueId(id), 'api');
  }
}
