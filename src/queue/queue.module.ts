import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueGauges } from './queue-gauges.js';
import { QueueController } from './queue.controller.js';
import { QueueRepository } from './queue.repository.js';
import { QueueService } from './queue.service.js';
import { QueueWriter } from './queue-writer.js';
import { MessageBodyEntity, MessageEntity } from './message.entity.js';

/**
 * The tables this module owns, read and written only by QueueRepository: message and
 * message_body (entities, also listed in src/entities.ts for data sources outside Nest), and
 * storm_hold (no entity: a held-back message's row, written and deleted with the message).
 */
export const QUEUE_ENTITIES = [MessageEntity, MessageBodyEntity];

@Module({
  imports: [TypeOrmModule.forFeature(QUEUE_ENTITIES), AuthModule, EventsModule, MailLogModule],
  providers: [QueueRepository, QueueWriter, QueueService, QueueGauges],
  controllers: [QueueController],
  exports: [QueueService, QueueRepository, QueueWriter],
})
export class QueueModule {}
