import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { PROVIDER_PRESETS } from './presets.js';
import { SettingsService } from './settings.service.js';
@Controller('api/v1/settings')
@UseGuards(ApiTokenGuard)
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}
  @Get()
  get() {
    return this.settings.view();
  }

  /** The provider presets: `PUT /api/v1/settings` with `"preset": id` fills host, port and security. */
  @Get('presets')
  presets() {
    return { items: PROVIDER_PRESETS.map((p) => ({ ...p })) };
  }
  @Put()
  update(@Body() body: unknown) {
    return this.settings.update(body, 'api');
  }
}
