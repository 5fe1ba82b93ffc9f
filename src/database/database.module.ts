import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { EventsModule } from '../events/events.module.js';
import { DatabaseHealthMonitor } from './database-health.monitor.js';
import { dataSourceOptions } from './data-source.js';
import { PgNotifier } from './pg-notifier.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.databaseUrl) throw new Error('no database URL: main.ts starts the embedded server first');
        return dataSourceOptions(config.databaseUrl);
      },
    }),
    EventsModule,
  ],
  providers: [PgNotifier, DatabaseHealthMonitor],
  exports: [PgNotifier, DatabaseHealthMonitor],
})
export class DatabaseModule {}
