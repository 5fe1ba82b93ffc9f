import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueController } from './queue.controller.js';
import { QueuePageController } from './queue.page.controller.js';
import { QueueRepository } from './queue.repository.js';
import { QueueService } from './queue.service.js';
import { QueueWriter } from './queue-writer.js';

@Module({
  imports: [AuthModule, EventsModule, MailLogModule],
  providers: [QueueRepository, QueueWriter, QueueService],
  controllers: [QueueController, QueuePageController],
  exports: [QueueService, QueueRepository, QueueWriter],
})
export class QueueModule {}
