import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { PROVIDER_PRESETS } from './presets.js';
import { SettingsService } from './settings.service.js';

@ApiTags('Settings')
@ApiBearerAuth()
@Controller('api/v1/settings')
@UseGuards(ApiTokenGuard)
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @ApiOperation({ summary: 'Read the settings (the password never: passwordSet instead)' })
  @Get()
  get() {
    return this.settings.view();
  }

  /** The provider presets: `PUT /api/v1/settings` with `"preset": id` fills host, port and security. */
  @ApiOperation({ summary: 'The relay provider presets' })
  @Get('presets')
  presets() {
    return { items: PROVIDER_PRESETS.map((p) => ({ ...p })) };
  }

  @ApiOperation({ summary: 'Change the settings: absent fields keep their value; 400 with one reason per field, nothing saved' })
  @Put()
  update(@Body() body: unknown) {
    return this.settings.update(body, 'api');
  }
}
