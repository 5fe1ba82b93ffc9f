import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { SettingsService } from './settings.service.js';

@Controller('api/v1/settings')
@UseGuards(ApiTokenGuard)
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  get() {
    return this.settings.view();
  }

  @Put()
  update(@Body() body: unknown) {
    return this.settings.update(body, 'api');
  }
}
