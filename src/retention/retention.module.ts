import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RetentionService } from './retention.service.js';

/** The daily purge of old mail-log entries and events (ScheduleModule is registered once, in ReportsModule). */
@Module({
  imports: [EventsModule, SettingsModule],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
