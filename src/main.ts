import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import { ApiTokenService } from './auth/api-token.service.js';
import { ConfigError, loadConfig } from './config/config.schema.js';
import { AdminPasswordService } from './dashboard/admin-password.service.js';
import { configureWeb } from './dashboard/web-setup.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { runMigrations } from './database/migrate.js';
import { PgNotifier } from './database/pg-notifier.js';
import { DeliveryWorker } from './delivery/delivery.worker.js';
import { EventLogService } from './events/event-log.service.js';
import { LocalMailService } from './intake/local-mail.service.js';
import { MaildropDirectory } from './intake/maildrop/maildrop-directory.js';
import { MaildropPickup } from './intake/maildrop/maildrop-pickup.service.js';
import { SmtpListenerService } from './intake/smtp-listener.service.js';
import { httpLogger } from './logging/http-logger.js';
import { PinoNestLogger, createRootLogger } from './logging/logger.js';
import { buildApiDocument } from './openapi/api-docs.js';
import { ApiDocsHolder } from './openapi/api-docs.controller.js';
import { SecretBox } from './settings/secret-box.js';
import { SECRET_BOX } from './settings/settings.service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`postroom: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createRootLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true });
  // First, so that the sendmail drop-in can keep mail even while the rest is still starting.
  await new MaildropDirectory(config.dataDir).ensure();

  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pg'), port: config.embeddedPgPort, logger });
  const databaseUrl = config.databaseUrl ?? (await embedded!.start());

  let app: NestExpressApplication | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      if (app) {
        await app.get(EventLogService).recordSafely({ level: 'info', source: 'system', message: `Postroom stopping (${signal})`, details: { signal } });
        // Stop taking mail first; then workers finish, leases are given back, the pool closes.
        await app.get(SmtpListenerService).stop();
        await app.close();
      }
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
    }
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ ...config, databaseUrl }, logger), {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
    });
    app.disable('x-powered-by');
    app.use(httpLogger(logger));
    app.useBodyParser('json', { limit: '12mb' });
    const migrated = await runMigrations(app.get(DataSource));
    if (migrated.length) logger.info({ migrations: migrated }, 'database migrated');
    await configureWeb(app, {
      databaseUrl,
      sessionSecret: app.get<SecretBox>(SECRET_BOX).derive('session-cookie'),
      secureCookies: false,
    });
    app.get(ApiDocsHolder).document = buildApiDocument(app, process.env.npm_package_version ?? '0.1.0');
    await app.get(ApiTokenService).ensureCliToken();
    await app.get(AdminPasswordService).ensure();
    await app.get(PgNotifier).start();
    await app.get(SmtpListenerService).start();
    app.get(DeliveryWorker).start();
    await app.get(MaildropPickup).start();
    await app.get(LocalMailService).releaseResolvable();
    await app.listen(config.http.port, config.http.host);
    await app.get(EventLogService).recordSafely({
      level: 'info',
      source: 'system',
      message: `Postroom started: SMTP on ${config.smtp.host}:${config.smtp.port}, HTTP on ${config.http.host}:${config.http.port}`,
      details: { instance: config.instanceName, embeddedDatabase: !config.databaseUrl },
    });
    logger.info({ smtp: `${config.smtp.host}:${config.smtp.port}`, http: `${config.http.host}:${config.http.port}` }, 'Postroom ready');
  } catch (err) {
    logger.fatal({ err }, 'Postroom could not start');
    await app?.close().catch(() => undefined);
    await embedded?.stop();
    process.exit(1);
  }
}

void main();
