import { ChannelsModule } from '../channels/channels.module.js';
import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { StormModule } from '../storm/storm.module.js';
import { IntakeService } from './intake.service.js';
import { LocalMailService } from './local-mail.service.js';
import { MaildropPickup } from './maildrop/maildrop-pickup.service.js';
import { MessagesController } from './messages.controller.js';
import { SmtpListenerService } from './smtp-listener.service.js';

@Module({
  imports: [AuthModule, ChannelsModule, EventsModule, MailLogModule, QueueModule, SettingsModule, StormModule],
  providers: [IntakeService, LocalMailService, SmtpListenerService, MaildropPickup],
  controllers: [MessagesController],
  exports: [SmtpListenerService, IntakeService, LocalMailService, MaildropPickup],
})
export class IntakeModule {}
