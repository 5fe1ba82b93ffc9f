import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module.js';
import { ApiTokenService } from './auth/api-token.service.js';
import { bearerFirst } from './auth/bearer-auth.js';
import { DataDirInUse, lockDataDir } from './common/data-dir-lock.js';
import { AppConfig, ConfigError, loadConfig } from './config/config.schema.js';
import { AdminPasswordService, initialPasswordNotice } from './dashboard/admin-password.service.js';
import { DashboardSessions } from './web/dashboard-sessions.js';
import { configureWeb, WebResources } from './web/web-setup.js';
import { EmbeddedPostgres } from './database/embedded-postgres.js';
import { runMigrations } from './database/migrate.js';
import { PgNotifier } from './database/pg-notifier.js';
import { DeliveryWorker } from './delivery/delivery.worker.js';
import { QueueAgeAlarm } from './delivery/queue-age-alarm.js';
import { RelayProbe } from './delivery/relay-probe.js';
import { EventLogService } from './events/event-log.service.js';
import { LocalMailService } from './intake/local-mail.service.js';
import { MaildropDirectory } from './intake/maildrop/maildrop-directory.js';
import { MaildropPickup } from './intake/maildrop/maildrop-pickup.service.js';
import { SmtpListenerService } from './intake/smtp-listener.service.js';
import { httpLogger } from './logging/http-logger.js';
import { PinoNestLogger, createRootLogger } from './logging/logger.js';
import { ApiDocsHolder } from './openapi/api-docs.controller.js';
import { SECRET_BOX, SecretBox } from './relays/secret-box.js';
import { BODY_LIMITS, apiJsonBodies } from './web/body-parsers.js';

/** How long HTTP requests in flight get to finish at shutdown before their connections are cut. */
const HTTP_GRACE_MS = 3_000;

function configOrExit(): AppConfig {
  try {
    const config = loadConfig();
    // TZ from the configuration file: Node follows process.env.TZ once it is set.
    if (config.timeZone && process.env.TZ !== config.timeZone) process.env.TZ = config.timeZone;
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`postroom: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * The logger's destination, which pino writes asynchronously. Text written to it comes after
 * every line logged before it; ending it waits for a write still in flight, which a bare
 * process.exit would cut short or overtake with the lines still buffered.
 */
interface LogStream {
  write(text: string): void;
  end(): void;
  once(event: 'close', listener: () => void): void;
}
const logStreamOf = (logger: Logger): LogStream => (logger as unknown as Record<symbol, LogStream>)[pino.symbols.streamSym]!;

/** Stops accepting HTTP connections (idle keep-alive ones close at once) and waits for the rest, bounded. */
async function closeHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const cut = setTimeout(() => server.closeAllConnections(), HTTP_GRACE_MS);
  await closed;
  clearTimeout(cut);
}

/**
 * DATA_DIR made, taken for this process (a second Postroom on it refuses to start), and its
 * maildrop made first, so that the sendmail drop-in can keep mail while the rest still starts.
 * A directory Postroom cannot use is a one-line reason and exit 2: starting again will not help.
 */
async function dataDirOrExit(dataDir: string): Promise<() => Promise<void>> {
  try {
    await mkdir(dataDir, { recursive: true });
    const release = await lockDataDir(dataDir);
    await new MaildropDirectory(dataDir).ensure();
    return release;
  } catch (err) {
    process.stderr.write(`postroom: cannot use DATA_DIR ${dataDir}: ${err instanceof DataDirInUse ? err.message : String((err as Error).message ?? err)}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createRootLogger(config.logLevel);
  const releaseDataDir = await dataDirOrExit(config.dataDir);

  const embedded = config.databaseUrl
    ? undefined
    : new EmbeddedPostgres({ dataDir: path.join(config.dataDir, 'pg'), port: config.embeddedPgPort, logger });
  let app: NestExpressApplication | undefined;
  let web: WebResources | undefined;
  const logs = logStreamOf(logger);
  const exit = (code: number) => {
    logs.once('close', () => process.exit(code));
    void releaseDataDir().finally(() => logs.end());
  };

  /**
   * Closes what start-up opened, in order: HTTP (and its session store, which only requests
   * use), the SMTP listener, then Nest (the delivery worker lets in-flight deliveries finish and
   * gives back its leases; the notifier's connection and TypeORM's pool close), and last the
   * embedded server, once no connection to it is left to break.
   */
  const closeAll = async (): Promise<boolean> => {
    let clean = true;
    try {
      if (app) {
        await closeHttp(app.getHttpServer() as Server);
        await web?.closeSessions();
        await app.get(SmtpListenerService).stop();
        await app.close();
      }
    } catch (err) {
      clean = false;
      logger.error({ err }, 'error during shutdown');
    }
    await embedded?.stop();
    return clean;
  };

  const startUp = async (): Promise<void> => {
    const databaseUrl = config.databaseUrl ?? (await embedded!.start());
    app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ ...config, databaseUrl }, logger), {
      logger: new PinoNestLogger(logger),
      bodyParser: false,
      // A module that fails to start throws here, so that closeAll stops the embedded server (Nest's default exits at once).
      abortOnError: false,
    });
    app.disable('x-powered-by');
    // Which proxies may tell the client's address and protocol (X-Forwarded-For, -Proto): none
    // unless TRUST_PROXY says so. req.ip (the login throttle) and req.secure (Secure cookies) follow it.
    app.set('trust proxy', config.trustProxy.length ? config.trustProxy : false);
    app.use(httpLogger(logger));
    const migrated = await runMigrations(app.get(DataSource));
    if (migrated.length) logger.info({ migrations: migrated }, 'database migrated');
    web = await configureWeb(app, {
      databaseUrl,
      sessionSecret: app.get<SecretBox>(SECRET_BOX).derive('session-cookie'),
      loginCsrfSecret: app.get<SecretBox>(SECRET_BOX).derive('login-csrf'),
      sessions: app.get(DashboardSessions),
      logger,
    });
    // The API's token before its body: no JSON is parsed for a caller without one.
    app.use('/api/v1', bearerFirst(app.get(ApiTokenService), { discardUpTo: BODY_LIMITS.message }), apiJsonBodies());
    app.get(ApiDocsHolder).describe(app, process.env.npm_package_version ?? '0.1.0');
    await app.get(ApiTokenService).ensureCliToken();
    const initialPassword = await app.get(AdminPasswordService).ensure();
    await app.get(PgNotifier).start();
    await app.get(SmtpListenerService).start();
    app.get(DeliveryWorker).start();
    app.get(QueueAgeAlarm).start();
    app.get(RelayProbe).start();
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
    // The last lines of start-up, after the framework's log lines.
    if (initialPassword) logs.write(initialPasswordNotice(initialPassword));
  };

  let failed = false;
  const starting = startUp().catch(async (err: unknown) => {
    failed = true;
    logger.fatal({ err }, 'Postroom could not start');
    await closeAll();
    exit(1);
  });

  // SIGTERM from a service manager, SIGINT from Ctrl-C (the terminal signals the whole foreground
  // group, and npm forwards its copy too: the second is ignored), SIGHUP when the terminal goes.
  // Our children run in sessions of their own, so Node alone decides when the database stops.
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const since = Date.now();
    logger.info({ signal }, 'shutting down');
    await starting; // a start-up in progress finishes first (or fails and exits by itself)
    if (failed) return;
    if (app) await app.get(EventLogService).recordSafely({ level: 'info', source: 'system', message: `Postroom stopping (${signal})`, details: { signal } });
    const clean = await closeAll();
    logger.info({ ms: Date.now() - since }, 'Postroom stopped');
    exit(clean ? 0 : 1);
  };
  process.on('SIGINT', (signal) => void shutdown(signal));
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGHUP', (signal) => void shutdown(signal));
}

void main();
