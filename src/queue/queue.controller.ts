import { Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
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

@ApiTags('Queue')
@ApiBearerAuth()
@Controller('api/v1/queue')
@UseGuards(ApiTokenGuard)
export class QueueController {
  constructor(private readonly queue: QueueService) {}

  @ApiOperation({ summary: 'List the queue, newest first (filters: state, address, q (text in subject, addresses, queue id, Message-ID); cursor, limit)' })
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

  @ApiOperation({ summary: 'Count the messages in the queue by state' })
  @Get('counts')
  counts() {
    return this.queue.counts();
  }

  @ApiOperation({ summary: 'Flush: every deferred message becomes due now (one being sent is tried again at once if that attempt fails); answers the count of the deferred' })
  @Post('flush')
  @HttpCode(200)
  flushAll() {
    return this.queue.flushAll('api');
  }

  @ApiOperation({ summary: 'Delete every queued, deferred and held message; answers the count' })
  @Delete()
  deleteAll() {
    return this.queue.deleteAll('api');
  }

  @ApiOperation({ summary: 'One message in the queue' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.queue.get(queueId(id));
  }

  @ApiOperation({ summary: 'Delete one message' })
  @Delete(':id')
  deleteOne(@Param('id') id: string) {
    return this.queue.deleteOne(queueId(id), 'api');
  }

  @ApiOperation({ summary: 'Flush one message (due now)' })
  @Post(':id/flush')
  @HttpCode(200)
  flushOne(@Param('id') id: string) {
    return this.queue.flushOne(queueId(id), 'api');
  }

  @ApiOperation({ summary: 'Put one message on hold' })
  @Post(':id/hold')
  @HttpCode(200)
  hold(@Param('id') id: string) {
    return this.queue.holdOne(queueId(id), 'api');
  }

  @ApiOperation({ summary: 'Release one message from hold' })
  @Post(':id/release')
  @HttpCode(200)
  release(@Param('id') id: string) {
    return this.queue.releaseOne(queueId(id), 'api');
  }
}
