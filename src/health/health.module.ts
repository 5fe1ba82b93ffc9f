import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { DatabaseHealthMonitor } from './database-health.monitor.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [EventsModule, IntakeModule],
  providers: [DatabaseHealthMonitor],
  controllers: [HealthController],
})
export class HealthModule {}
