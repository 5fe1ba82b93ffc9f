import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { RulesService } from './rules.service.js';

/** Routing rules: which alerts go to which channels, always or when mail cannot deliver them. */
@ApiTags('Rules')
@ApiBearerAuth()
@Controller('api/v1/rules')
@UseGuards(ApiTokenGuard)
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @ApiOperation({ summary: 'Every rule, in the order they are evaluated' })
  @Get()
  async list() {
    return { items: await this.rules.list(), nextCursor: null };
  }

  @ApiOperation({ summary: 'One rule' })
  @Get(':id')
  get(@Param('id') id: string) {
    return this.rules.get(id);
  }

  @ApiOperation({ summary: 'Add a rule (last, or at `position`); 400 with one reason per field, nothing saved' })
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.rules.create(body, 'api');
  }

  @ApiOperation({ summary: 'Change a rule (absent fields keep their value); `position` moves it' })
  @Put(':id')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.rules.update(id, body, 'api');
  }

  @ApiOperation({ summary: 'Remove a rule' })
  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.rules.remove(id, 'api');
  }
}
