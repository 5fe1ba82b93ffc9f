import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ChannelsModule } from '../channels/channels.module.js';
import { EventsModule } from '../events/events.module.js';
import { IntakeModule } from '../intake/intake.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { RelaysModule } from '../relays/relays.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { BounceNotifier } from './bounce-notifier.js';
import { ChannelDelivery } from './channel-delivery.js';
import { DeliveryWorker } from './delivery.worker.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { OutcomeRecorder } from './outcome.recorder.js';
import { DeadMansSwitch } from './dead-mans-switch.js';
import { QueueAgeAlarm } from './queue-age-alarm.js';
import { RelayAlarms } from './relay-alarms.js';
import { RelayProbe } from './relay-probe.js';
import { TestEmailController } from './test-email.controller.js';
import { TestEmailService } from './test-email.service.js';
import { systemResolver } from './direct-transport.js';
import { SmtpThreadHost } from './smtp-thread.js';
import { MX_RESOLVER, TransportFactory } from './transport.factory.js';

@Module({
  imports: [AuthModule, ChannelsModule, EventsModule, IntakeModule, MailLogModule, OAuthModule, QueueModule, RelaysModule, SettingsModule],
  // The system's DNS for direct delivery and the test email (tests give a stub resolver instead);
  // the owner of the delivery thread (started at the first relay send, ended when idle).
  providers: [
    DeliveryWorker,
    ChannelDelivery,
    OutcomeRecorder,
    BounceNotifier,
    TransportFactory,
    TestEmailService,
    RelayAlarms,
    RelayProbe,
    DeadMansSwitch,
    QueueAgeAlarm,
    { provide: MX_RESOLVER, useValue: systemResolver },
    { provide: SmtpThreadHost, useFactory: () => new SmtpThreadHost() },
  ],
  controllers: [TestEmailController],
  exports: [DeliveryWorker, TransportFactory, TestEmailService, RelayAlarms, RelayProbe, QueueAgeAlarm],
})
export class DeliveryModule {}
