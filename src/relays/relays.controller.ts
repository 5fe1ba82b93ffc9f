import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { RelaysService } from './relays.service.js';

/**
 * The relays and their health: the primary ('primary', changed through PUT /api/v1/settings:
 * 409 here) and the backups. Testing one is POST /api/v1/relays/:id/test (DeliveryModule).
 */
@Controller('api/v1/relays')
@UseGuards(ApiTokenGuard)
export class RelaysController {
  constructor(private readonly relays: RelaysService) {}
  @Get()
  async list() {
    return { items: await this.relays.list(), nextCursor: null };
  }
  @Get(':id')
  get(@Param('id') id: string) {
    return this.relays.get(id);
  }
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.relays.create(body, 'api');
  }
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.relays.update(id, body, 'api');
  }
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.relays.remove(id, 'api');
  }
}
