import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDataSource } from '../helpers/db.js';
import { queueServices } from './support.js';

/** RulesService.route on a real PostgreSQL: which channels an alert goes to at once, and which steps wait for mail to fail. */
describe('routing rules: where an alert goes', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let services: ReturnType<typeof queueServices>;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    services = queueServices(ds);
    await ds.query(`DELETE FROM rule; DELETE FROM channel`);
  });
  afterAll(async () => close?.());

  it('sends a channel that gets the alert at once no second copy when mail fails: the undelivered step leaves it out', async () => {
    const hook = await services.channels.create({ type: 'webhook', name: 'Hook', url: 'http://127.0.0.1:9/hook' }, 'test');
    const phone = await services.channels.create({ type: 'webhook', name: 'Phone', url: 'http://127.0.0.1:9/phone' }, 'test');
    await services.rules.create({ name: 'copy', channels: [hook.id], when: 'always' }, 'test');
    await services.rules.create({ name: 'escalate', channels: [hook.id, phone.id], when: 'undelivered', afterMinutes: 1 }, 'test');
    await services.rules.create({ name: 'only the hook', channels: [hook.id], when: 'undelivered', afterMinutes: 5 }, 'test');
    const routing = await services.rules.route({ sender: 'ups@nas.example.com', recipients: ['ops@example.com'], subject: 'On battery', severity: 'critical', clientAddress: null });
    expect(routing.recipients).toEqual([`channel:${hook.id}`]);
    expect(routing.escalation).toEqual([{ channels: [Number(phone.id)], afterMinutes: 1, rule: 'escalate' }]);
  });
});
