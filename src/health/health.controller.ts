import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SmtpListenerService } from '../intake/smtp-listener.service.js';

/** Liveness and readiness, without auth (for orchestrators and load balancers). */
@Controller()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
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
      this.db.query('SELECT 1').then(() => 'up', () => 'down'),
      new Promise<string>((resolve) => setTimeout(() => resolve('down'), 2000).unref()),
    ]);
    const listener = this.listener.isListening ? 'up' : 'down';
    const body = { status: database === 'up' && listener === 'up' ? 'ok' : 'unavailable', database, listener };
    if (body.status !== 'ok') throw new ServiceUnavailableException(body);
    return body;
  }
}
