import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service.js';
import { RelayHealthService } from '../relays/relay-health.service.js';

/**
 * postroom_relay_up in /metrics, read at scrape time from the relays' stored health (the same on
 * every instance) through RelayHealthService, which owns relay_health.
 */
@Injectable()
export class RelayGauge implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly health: RelayHealthService,
  ) {}

  onModuleInit(): void {
    this.metrics.registerGauge({
      name: 'postroom_relay_up',
      help: 'Relay health from its last outcome: 1 when the last attempt through it reached it, 0 when it failed',
      labelNames: ['relay'],
      read: async () => (await this.health.upByRelay()).map((r) => ({ labels: { relay: r.relay }, value: r.up ? 1 : 0 })),
    });
  }
}
