import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MailLogController } from './mail-log.controller.js';
import { MailLogPageController } from './mail-log.page.controller.js';
import { MailLogService } from './mail-log.service.js';

@Module({
  imports: [AuthModule],
  providers: [MailLogService],
  controllers: [MailLogController, MailLogPageController],
  exports: [MailLogService],
})
export class MailLogModule {}
