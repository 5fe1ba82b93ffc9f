import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { EventsModule } from '../events/events.module.js';
import { SecretBox, legacyPassphraseKey, loadSecretKey } from './secret-box.js';
import { SettingsController } from './settings.controller.js';
import { SECRET_BOX, SettingsService } from './settings.service.js';
import { SettingsEntity } from './settings.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const SETTINGS_ENTITIES = [SettingsEntity];

@Module({
  imports: [TypeOrmModule.forFeature(SETTINGS_ENTITIES), AuthModule, EventsModule],
  providers: [
    SettingsService,
    {
      provide: SECRET_BOX,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => new SecretBox(await loadSecretKey(config.secretKey, config.dataDir), legacyPassphraseKey(config.secretKey)),
    },
  ],
  controllers: [SettingsController],
  exports: [SettingsService, SECRET_BOX],
})
export class SettingsModule {}
