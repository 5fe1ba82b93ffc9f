import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { RulesService } from './rules.service.js';

/** Routing rules: which alerts go to which channels, always or when mail cannot deliver them. */
@Controller('api/v1/rules')
@UseGuards(ApiTokenGuard)
export class RulesController {
  constructor(private readonly rules: RulesService) {}
  @Get()
  async list() {
    return { items: await this.rules.list(), nextCursor: null };
  }
  @Get(':id')
  get(@Param('id') id: string) {
    return this.rules.get(id);
  }
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.rules.create(body, 'api');
  }
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.rules.update(id, body, 'api');
  }
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.rules.remove(id, 'api');
  }
}
