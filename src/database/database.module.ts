import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { dataSourceOptions } from './data-source.js';
import { PgNotifier } from './pg-notifier.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        if (!config.databaseUrl) throw new Error('no database URL: main.ts starts the embedded server first');
        // Each module registers its own entities (TypeOrmModule.forFeature); src/entities.ts lists them for data sources outside Nest.
        return { ...dataSourceOptions(config.databaseUrl), autoLoadEntities: true };
      },
    }),
  ],
  providers: [PgNotifier],
  exports: [PgNotifier],
})
export class DatabaseModule {}
