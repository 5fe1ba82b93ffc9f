import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RelayHealthService } from './relay-health.service.js';
import { RelaysController } from './relays.controller.js';
import { RelaysService } from './relays.service.js';
import { SecretKeyCheck } from './secret-key-check.service.js';
import { RelayEntity } from './relay.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const RELAYS_ENTITIES = [RelayEntity];

/** Backup relays, per-relay health and the start-up check of the stored relay secrets. */
@Module({
  imports: [TypeOrmModule.forFeature(RELAYS_ENTITIES), AuthModule, EventsModule, SettingsModule],
  providers: [RelaysService, RelayHealthService, SecretKeyCheck],
  controllers: [RelaysController],
  exports: [RelaysService, RelayHealthService],
})
export class RelaysModule {}
