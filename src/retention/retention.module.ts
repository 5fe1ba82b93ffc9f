import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { RetentionService } from './retention.service.js';

/** The daily purge of old mail-log entries and events (ScheduleModule is registered once, in AppModule). */
@Module({
  imports: [EventsModule, MailLogModule, SettingsModule],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
