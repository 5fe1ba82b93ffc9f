import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { RelaysModule } from '../relays/relays.module.js';
import { DatabaseHealthMonitor } from './database-health.monitor.js';
import { HealthController } from './health.controller.js';
import { RelayGauge } from './relay-gauge.js';

@Module({
  imports: [EventsModule, IntakeModule, RelaysModule],
  providers: [DatabaseHealthMonitor, RelayGauge],
  controllers: [HealthController],
})
export class HealthModule {}
