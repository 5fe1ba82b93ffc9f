import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { EventLogService } from './event-log.service.js';
import { EventsController } from './events.controller.js';
import { EventEntity } from './event.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const EVENTS_ENTITIES = [EventEntity];

@Module({
  imports: [TypeOrmModule.forFeature(EVENTS_ENTITIES), AuthModule],
  providers: [EventLogService],
  controllers: [EventsController],
  exports: [EventLogService],
})
export class EventsModule {}
