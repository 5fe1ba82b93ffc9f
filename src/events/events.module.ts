import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventLogService } from './event-log.service.js';
import { EventsController } from './events.controller.js';
import { EventsPageController } from './events.page.controller.js';

@Module({
  imports: [AuthModule],
  providers: [EventLogService],
  controllers: [EventsController, EventsPageController],
  exports: [EventLogService],
})
export class EventsModule {}
