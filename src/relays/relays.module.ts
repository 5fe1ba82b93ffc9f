import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RelayHealthService } from './relay-health.service.js';
import { RelaysController } from './relays.controller.js';
import { RelaysService } from './relays.service.js';
import { SecretKeyCheck } from './secret-key-check.service.js';

/**
 * Backup relays, per-relay health and the start-up check of the stored relay secrets. Global so
 * the dashboard home can show the relays without importing it; it imports nothing from delivery
 * (DeliveryModule imports it).
 */
@Global()
@Module({
  imports: [AuthModule, EventsModule, SettingsModule],
  providers: [RelaysService, RelayHealthService, SecretKeyCheck],
  controllers: [RelaysController],
  exports: [RelaysService, RelayHealthService],
})
export class RelaysModule {}
