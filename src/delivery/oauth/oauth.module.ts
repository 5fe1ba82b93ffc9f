import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import { AppConfig } from '../../config/config.schema.js';
import { EventsModule } from '../../events/events.module.js';
import { RelaysModule } from '../../relays/relays.module.js';
import { SettingsModule } from '../../settings/settings.module.js';
import { GoogleAuthorizeController } from './google-authorize.controller.js';
import { OAUTH_URLS, OAuthTokenService } from './oauth-token.service.js';

/** OAuth2 relay login: the token provider (shared by delivery, the test email and the dashboard) and "Authorize with Google". */
@Module({
  imports: [EventsModule, RelaysModule, SettingsModule],
  providers: [OAuthTokenService, { provide: OAUTH_URLS, inject: [APP_CONFIG], useFactory: (config: AppConfig) => config.oauth }],
  controllers: [GoogleAuthorizeController],
  exports: [OAuthTokenService],
})
export class OAuthModule {}
