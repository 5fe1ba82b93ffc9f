import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { QueueRepository } from './queue.repository.js';

/** The queue's gauges in /metrics, read from its tables at scrape time (the same on every instance). */
@Injectable()
export class QueueGauges implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly repo: QueueRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.registerGauge({
      name: 'postroom_queue_depth',
      help: 'Messages in the queue by state (all instances)',
      labelNames: ['state'],
      read: async () => Object.entries(await this.repo.countByState()).map(([state, n]) => ({ labels: { state }, value: n })),
    });
    this.metrics.registerGauge({
      name: 'postroom_queue_oldest_message_age_seconds',
      help: 'Age of the oldest message waiting in the queue (queued, deferred or sending; 0 when empty)',
      read: async () => [{ value: await this.repo.oldestWaitingSeconds() }],
    });
  }
}
