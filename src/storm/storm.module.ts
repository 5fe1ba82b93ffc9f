import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { StormService } from './storm.service.js';

/** Alert-storm protection: duplicate suppression and sender rate limits, with digests. */
@Module({
  imports: [EventsModule, MailLogModule, QueueModule, SettingsModule],
  providers: [StormService],
  exports: [StormService],
})
export class StormModule {}
