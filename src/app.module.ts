import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { ChannelsModule } from './channels/channels.module.js';
import { DomainErrorFilter } from './web/domain-error.filter.js';
import { UnstorableTextFilter } from './web/unstorable-text.filter.js';
import { ConfigModule } from './config/config.module.js';
import { AppConfig } from './config/config.schema.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { EventsModule } from './events/events.module.js';
import { HealthModule } from './health/health.module.js';
import { IntakeModule } from './intake/intake.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MailLogModule } from './mail-log/mail-log.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { QueueModule } from './queue/queue.module.js';
import { RelaysModule } from './relays/relays.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SettingsModule } from './settings/settings.module.js';

/** Wiring only: the feature modules, with the validated config and the root logger. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        // The daily jobs of several modules (reports, retention, storm digests) run on it.
        ScheduleModule.forRoot(),
        MetricsModule,
        DatabaseModule,
        AuthModule,
        EventsModule,
        MailLogModule,
        SettingsModule,
        RelaysModule,
        QueueModule,
        ChannelsModule,
        IntakeModule,
        DeliveryModule,
        HealthModule,
        DashboardModule,
        ReportsModule,
        RetentionModule,
        OpenApiModule,
      ],
      // Not main.ts: APP_FILTER gets DI. Domain errors (400/404/409) become the API's one error
      // shape; text PostgreSQL cannot store answers 400 wherever validation missed it.
      providers: [
        { provide: APP_FILTER, useClass: DomainErrorFilter },
        { provide: APP_FILTER, useClass: UnstorableTextFilter },
      ],
    };
  }
}
