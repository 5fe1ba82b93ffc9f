import { describe, expect, it } from 'vitest';
import { silentLogger } from '../helpers/db.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';

describe('MetricsService.registerGauge: gauges their owners read at scrape time', () => {
  it('shows the series of each reading, with and without labels', async () => {
    const metrics = new MetricsService(silentLogger);
    let depth = 3;
    metrics.registerGauge({ name: 'test_depth', help: 'depth', labelNames: ['state'], read: async () => [{ labels: { state: 'queued' }, value: depth }] });
    metrics.registerGauge({ name: 'test_age_seconds', help: 'age', read: async () => [{ value: 42 }] });
    expect(await metrics.metrics()).toMatch(/^test_depth\{state="queued"\} 3$/m);
    expect(await metrics.metrics()).toMatch(/^test_age_seconds 42$/m);
    depth = 0;
    expect(await metrics.metrics()).toMatch(/^test_depth\{state="queued"\} 0$/m);
  });

  it('leaves a gauge out of the scrape when its reading fails (the database is away), and the rest in', async () => {
    const metrics = new MetricsService(silentLogger);
    let up = true;
    metrics.registerGauge({
      name: 'test_relay_up',
      help: 'up',
      labelNames: ['relay'],
      read: async () => {
        if (!up) throw new Error('connection refused');
        return [{ labels: { relay: 'smtp.example.com:587' }, value: 1 }];
      },
    });
    expect(await metrics.metrics()).toMatch(/^test_relay_up\{relay="smtp.example.com:587"\} 1$/m);
    up = false;
    const text = await metrics.metrics();
    expect(text).not.toMatch(/^test_relay_up\{/m);
    expect(text).toMatch(/^postroom_database_up 1$/m);
  });
});
