import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { StormService } from './storm.service.js';

/** Alert-storm protection: duplicate suppression and sender rate limits, with digests. */
@Module({
  imports: [QueueModule, SettingsModule],
  providers: [StormService],
  exports: [StormService],
})
export class StormModule {}
