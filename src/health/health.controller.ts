import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Sql } from '../database/sql.js';
import { SmtpListenerService } from '../intake/smtp-listener.service.js';

/** Liveness and readiness, without auth (for orchestrators and load balancers). */
@Controller()
export class HealthController {
  constructor(
    private readonly sql: Sql,
    private readonly listener: SmtpListenerService,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  /** 200 only when the database answers and the SMTP listener is bound. */
  @Get('readyz')
  async readyz() {
    const database = await Promise.race([
      this.sql.rows('SELECT 1').then(() => 'up', () => 'down'),
      new Promise<string>((resolve) => setTimeout(() => resolve('down'), 2000).unref()),
    ]);
    const listener = this.listener.isListening ? 'up' : 'down';
    const body = { status: database === 'up' && listener === 'up' ? 'ok' : 'unavailable', database, listener };
    if (body.status !== 'ok') throw new ServiceUnavailableException(body);
    return body;
  }
}
