import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { ChannelTestService } from './channel-test.service.js';
import { ChannelsService } from './channels.service.js';

/** Notification channels: HTTP targets that routing rules send alerts to, delivered from the queue like mail. */
@ApiTags('Channels')
@ApiBearerAuth()
@Controller('api/v1/channels')
@UseGuards(ApiTokenGuard)
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly tests: ChannelTestService,
  ) {}

  @ApiOperation({ summary: 'Every channel (secrets only as whether they are set)' })
  @Get()
  async list() {
    return { items: await this.channels.list(), nextCursor: null };
  }

  @ApiOperation({ summary: 'One channel' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.channels.get(id);
  }

  @ApiOperation({ summary: 'Add a channel; 400 with one reason per field, nothing saved' })
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.channels.create(body, 'api');
  }

  @ApiOperation({ summary: 'Change a channel (absent fields keep their value; null clears a secret)' })
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.channels.update(id, body, 'api');
  }

  @ApiOperation({ summary: 'Remove a channel; 409 while a rule sends to it' })
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.channels.remove(id, 'api');
  }

  @ApiOperation({ summary: 'Send a test notification now (not through the queue) and say how it went: step, HTTP status, reply, time' })
  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.tests.test(id, 'api');
  }
}
