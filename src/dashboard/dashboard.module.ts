import { Module } from '@nestjs/common';
import { OAuthModule } from '../delivery/oauth/oauth.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { AdminPasswordService } from './admin-password.service.js';
import { AuthController } from './auth.controller.js';
import { DashboardSessions } from './dashboard-sessions.js';
import { HomeController } from './home.controller.js';
import { MessageStoryController } from './message-story.controller.js';

@Module({
  imports: [EventsModule, IntakeModule, MailLogModule, OAuthModule, QueueModule, SettingsModule],
  providers: [AdminPasswordService, DashboardSessions],
  controllers: [AuthController, HomeController, MessageStoryController],
  exports: [AdminPasswordService],
})
export class DashboardModule {}
