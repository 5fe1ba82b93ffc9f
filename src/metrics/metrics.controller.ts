import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MetricsService } from './metrics.service.js';

/**
 * Prometheus text format, without auth: like /healthz it is served on HTTP_HOST (loopback by
 * default). Expose HTTP on another interface only behind a proxy that protects /metrics.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.metrics();
    res.type(this.metrics.contentType).send(body);
  }
}
