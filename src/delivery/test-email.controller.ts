import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { TestEmailService } from './test-email.service.js';

/**
 * POST /api/v1/settings/test { to, settings?, saveIfOk? }: sends a test email and answers the
 * diagnosis (200 whether the test succeeded or not; 400 for an invalid request). It lives in
 * DeliveryModule: SettingsModule must not import DeliveryModule (which imports it).
 */
@ApiTags('Settings')
@ApiBearerAuth()
@Controller('api/v1/settings/test')
@UseGuards(ApiTokenGuard)
export class TestEmailController {
  constructor(private readonly tests: TestEmailService) {}

  @ApiOperation({ summary: 'Send a test email through the real delivery path; answers the diagnosis' })
  @Post()
  @HttpCode(200)
  test(@Body() body: unknown) {
    const b = (body && typeof body === 'object' ? body : {}) as { to?: unknown; settings?: unknown; saveIfOk?: unknown };
    return this.tests.run({ to: b.to, settings: b.settings, saveIfOk: b.saveIfOk }, 'api');
  }
}
