import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { TestEmailService } from './test-email.service.js';

const body = (raw: unknown): Record<string, unknown> => (raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {});

/**
 * The test email: POST /api/v1/settings/test { to, settings?, saveIfOk? } (the primary relay, or
 * direct delivery, as saved or with unsaved values) and POST /api/v1/relays/:id/test { to } (any
 * saved relay). Both answer the diagnosis (200 whether the test succeeded or not; 400 for an
 * invalid request). It lives in DeliveryModule: the settings and relays modules sit below it.
 */
@Controller('api/v1')
@UseGuards(ApiTokenGuard)
export class TestEmailController {
  constructor(private readonly tests: TestEmailService) {}
  @Post('settings/test')
  @HttpCode(200)
  test(@Body() raw: unknown) {
    const b = body(raw);
    return this.tests.run({ to: b.to, settings: b.settings, saveIfOk: b.saveIfOk }, 'api');
  }
  @Post('relays/:id/test')
  @HttpCode(200)
  testRelay(@Param('id') id: string, @Body() raw: unknown) {
    return this.tests.runOnRelay(id, { to: body(raw).to }, 'api');
  }
}
