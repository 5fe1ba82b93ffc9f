import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { EventsModule } from '../events/events.module.js';
import { PrimaryRelayService } from './primary-relay.service.js';
import { RelayHealthService } from './relay-health.service.js';
import { RelaysController } from './relays.controller.js';
import { RelaysService } from './relays.service.js';
import { SECRET_BOX, SecretBox, legacyPassphraseKey, loadSecretKey } from './secret-box.js';
import { SecretKeyCheck } from './secret-key-check.service.js';
import { RelayEntity } from './relay.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const RELAYS_ENTITIES = [RelayEntity];

/**
 * The relays (the primary of priority 0 and the backups), their sealed secrets (the SecretBox of
 * SECRET_KEY), per-relay health and the start-up check of the stored secrets.
 */
@Module({
  imports: [TypeOrmModule.forFeature(RELAYS_ENTITIES), AuthModule, EventsModule],
  providers: [
    RelaysService,
    PrimaryRelayService,
    RelayHealthService,
    SecretKeyCheck,
    {
      provide: SECRET_BOX,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => new SecretBox(await loadSecretKey(config.secretKey, config.dataDir), legacyPassphraseKey(config.secretKey)),
    },
  ],
  controllers: [RelaysController],
  exports: [RelaysService, PrimaryRelayService, RelayHealthService, SECRET_BOX],
})
export class RelaysModule {}
