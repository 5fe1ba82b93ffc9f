import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { MailLogModule } from '../mail-log/mail-log.module.js';
import { QueueModule } from '../queue/queue.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { DeliveryWorker } from './delivery.worker.js';
import { OutcomeRecorder } from './outcome.recorder.js';
import { TransportFactory } from './transport.factory.js';

@Module({
  imports: [EventsModule, MailLogModule, QueueModule, SettingsModule],
  providers: [DeliveryWorker, OutcomeRecorder, TransportFactory],
  exports: [DeliveryWorker, TransportFactory],
})
export class DeliveryModule {}
