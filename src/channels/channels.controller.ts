import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { ChannelTestService } from './channel-test.service.js';
import { ChannelsService } from './channels.service.js';

/** Notification channels: HTTP targets that routing rules send alerts to, delivered from the queue like mail. */
@Controller('api/v1/channels')
@UseGuards(ApiTokenGuard)
export class ChannelsController {
  constructor(
    private readonly channels: ChannelsService,
    private readonly tests: ChannelTestService,
  ) {}
  @Get()
  async list() {
    return { items: await this.channels.list(), nextCursor: null };
  }
  @Get(':id')
  get(@Param('id') id: string) {
    return this.channels.get(id);
  }
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.channels.create(body, 'api');
  }
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.channels.update(id, body, 'api');
  }
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.channels.remove(id, 'api');
  }
  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string) {
    return this.tests.test(id, 'api');
  }
}
