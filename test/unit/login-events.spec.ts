import { describe, expect, it } from 'vitest';
import type { EventLogService, NewEvent } from '../../src/events/event-log.service.js';
import { LOGIN_FOLD_MS, LoginEvents } from '../../src/dashboard/login-events.js';

/** LoginEvents over an event log that keeps what it is given. */
function logins() {
  const recorded: NewEvent[] = [];
  const log = { recordSafely: async (e: NewEvent) => void recorded.push(e) } as unknown as EventLogService;
  return { events: new LoginEvents(log), recorded };
}

const MIN = 60_000;

describe('dashboard logins in the event log', () => {
  it('records the first login from an address at once', async () => {
    const { events, recorded } = logins();
    await events.succeeded('192.0.2.7', 0);
    expect(recorded).toEqual([{ level: 'info', source: 'system', message: 'Dashboard login from 192.0.2.7', details: { client: '192.0.2.7', actor: 'admin' } }]);
  });

  it('folds further logins from the same address within the hour into one event with their count', async () => {
    const { events, recorded } = logins();
    for (const at of [0, 5 * MIN, 20 * MIN, 59 * MIN]) await events.succeeded('192.0.2.7', at);
    expect(recorded).toHaveLength(1);
    await events.writeEnded(LOGIN_FOLD_MS - 1);
    expect(recorded).toHaveLength(1);
    await events.writeEnded(LOGIN_FOLD_MS);
    expect(recorded).toHaveLength(2);
    expect(recorded[1]).toEqual({
      level: 'info',
      source: 'system',
      message: 'Dashboard login from 192.0.2.7: 3 more within the hour',
      details: { client: '192.0.2.7', actor: 'admin', logins: 3, since: new Date(0).toISOString() },
    });
  });

  it('keeps addresses apart, and records a lone login once only', async () => {
    const { events, recorded } = logins();
    await events.succeeded('192.0.2.7', 0);
    await events.succeeded('198.51.100.3', MIN);
    await events.succeeded('192.0.2.7', 2 * MIN);
    await events.writeEnded(LOGIN_FOLD_MS + 2 * MIN);
    expect(recorded.map((e) => e.message)).toEqual(['Dashboard login from 192.0.2.7', 'Dashboard login from 198.51.100.3', 'Dashboard login from 192.0.2.7: 1 more within the hour']);
  });

  it('opens a new window, recorded at once, for a login after the hour', async () => {
    const { events, recorded } = logins();
    await events.succeeded('192.0.2.7', 0);
    await events.succeeded('192.0.2.7', LOGIN_FOLD_MS + MIN);
    expect(recorded.map((e) => e.message)).toEqual(['Dashboard login from 192.0.2.7', 'Dashboard login from 192.0.2.7']);
  });

  it('writes out what it counted when the application stops', async () => {
    const { events, recorded } = logins();
    await events.succeeded('192.0.2.7', Date.now());
    await events.succeeded('192.0.2.7', Date.now());
    await events.onModuleDestroy();
    expect(recorded.map((e) => e.message)).toEqual(['Dashboard login from 192.0.2.7', 'Dashboard login from 192.0.2.7: 1 more within the hour']);
  });
});
