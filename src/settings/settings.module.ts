import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { RelaysModule } from '../relays/relays.module.js';
import { SettingsController } from './settings.controller.js';
import { SettingsService } from './settings.service.js';
import { SettingsEntity } from './settings.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const SETTINGS_ENTITIES = [SettingsEntity];

/** The settings row, and the settings API over it and the primary relay's row. */
@Module({
  imports: [TypeOrmModule.forFeature(SETTINGS_ENTITIES), AuthModule, EventsModule, RelaysModule],
  providers: [SettingsService],
  controllers: [SettingsController],
  exports: [SettingsService],
})
export class SettingsModule {}
