import { LoggerService } from '@nestjs/common';
import { pino, Logger } from 'pino';

/**
 * The process-wide structured logger (JSON lines on stdout). Lines are written asynchronously
 * (off the event loop, several at once under load) and flushed when the process exits; only a
 * hard kill can lose the last few — the mail log and the event log in the database are the record.
 */
export function createRootLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'postroom' },
      redact: { paths: ['password', '*.password', 'auth.pass', '*.auth.pass', 'token', '*.token'], censor: '[redacted]' },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

/** Lets NestJS write through pino, so framework messages are JSON lines too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
