import { Global, Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { dataSourceOptions } from './data-source.js';
import { PgNotifier } from './pg-notifier.js';
import { Sql, sqlOf } from './sql.js';

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
  providers: [PgNotifier, { provide: Sql, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => sqlOf(dataSource) }],
  exports: [PgNotifier, Sql],
})
export class DatabaseModule {}
