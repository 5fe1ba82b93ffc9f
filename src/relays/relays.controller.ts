import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { RelaysService } from './relays.service.js';

/**
 * The relays and their health: the primary ('primary', changed through PUT /api/v1/settings:
 * 409 here) and the backups. Testing one is POST /api/v1/relays/:id/test (DeliveryModule).
 */
@ApiTags('Relays')
@ApiBearerAuth()
@Controller('api/v1/relays')
@UseGuards(ApiTokenGuard)
export class RelaysController {
  constructor(private readonly relays: RelaysService) {}

  @ApiOperation({ summary: 'Every relay in the order they are tried (the primary first), with its health' })
  @Get()
  async list() {
    return { items: await this.relays.list(), nextCursor: null };
  }

  @ApiOperation({ summary: "One relay: 'primary' or a backup's id" })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.relays.get(id);
  }

  @ApiOperation({ summary: 'Add a backup relay; 400 with one reason per field, nothing saved' })
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.relays.create(body, 'api');
  }

  @ApiOperation({ summary: 'Change a backup relay (absent fields keep their value); 409 for the primary' })
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.relays.update(id, body, 'api');
  }

  @ApiOperation({ summary: 'Remove a backup relay and its health; 409 for the primary' })
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.relays.remove(id, 'api');
  }
}
