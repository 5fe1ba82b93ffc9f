import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module.js';
import { MailLogController } from './mail-log.controller.js';
import { MailLogService } from './mail-log.service.js';
import { MailLogEntity } from './mail-log.entity.js';

/** The tables this module owns (also listed in src/entities.ts for data sources outside Nest). */
export const MAIL_LOG_ENTITIES = [MailLogEntity];

@Module({
  imports: [TypeOrmModule.forFeature(MAIL_LOG_ENTITIES), AuthModule],
  providers: [MailLogService],
  controllers: [MailLogController],
  exports: [MailLogService],
})
export class MailLogModule {}
