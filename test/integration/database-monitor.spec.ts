import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, silentLogger } from '../helpers/db.js';
import { DatabaseHealthMonitor } from '../../src/health/database-health.monitor.js';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { ENTITIES } from '../../src/entities.js';

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Database outage: lost and recovered in the event log', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let admin: pg.Client;
  let monitor: DatabaseHealthMonitor;
  let name = '';
  const errors: { msg: string; lostAt?: string }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    name = new URL(db.url).pathname.slice(1);
    ds = new DataSource(dataSourceOptions(db.url, 4, ENTITIES));
    await ds.initialize();
    admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await admin.connect();
    // A logger that keeps the error lines, to see the outage logged at once.
    const logger = silentLogger.child({});
    const spy = Object.assign(Object.create(logger) as typeof logger, {
      child: () => spy,
      error: (obj: { lostAt?: string }, msg: string) => errors.push({ msg, lostAt: obj.lostAt }),
      warn: () => undefined,
    });
    monitor = new DatabaseHealthMonitor(ds, spy, new EventLogService(sqlOf(ds), silentLogger), new MetricsService(silentLogger));
    monitor.intervalMs = 200;
    monitor.timeoutMs = 1000;
    monitor.start();
  });

  afterAll(async () => {
    await monitor?.stop();
    await admin?.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await ds?.destroy().catch(() => undefined);
    await admin?.end();
    await db?.drop();
  });

  it('logs an error at once when the database goes away and one event with both times when it is back', async () => {
    await until(() => monitor.isUp, 'the first ping');
    const t0 = Date.now();
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
    await until(() => !monitor.isUp, 'the outage to be seen', 5_000);
    expect(errors.map((e) => e.msg)).toEqual(['Database connection lost']);
    await new Promise((r) => setTimeout(r, 1200)); // down for a while: still one error line
    expect(errors).toHaveLength(1);

    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    let rows: { level: string; source: string; message: string; details: { lostAt: string; recoveredAt: string; seconds: number } }[] = [];
    await until(async () => {
      rows = await ds.query(`SELECT level, source, message, details FROM event WHERE message LIKE 'Database connection lost%'`).catch(() => []);
      return rows.length > 0;
    }, 'the recovery event');
    expect(monitor.isUp).toBe(true);
    expect(rows).toHaveLength(1);
    const e = rows[0]!;
    expect(e.level).toBe('warning');
    expect(e.source).toBe('system');
    expect(e.message).toMatch(/^Database connection lost at \d{4}-\d\d-\d\dT[\d:.]+Z, recovered at \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+ s\)$/);
    const lostAt = Date.parse(e.details.lostAt);
    const recoveredAt = Date.parse(e.details.recoveredAt);
    expect(lostAt).toBeGreaterThanOrEqual(t0 - 50);
    expect(recoveredAt - lostAt).toBeGreaterThanOrEqual(1000);
    expect(errors[0]!.lostAt).toBe(e.details.lostAt);

    // Once: later pings write nothing more.
    await new Promise((r) => setTimeout(r, 600));
    expect((await ds.query(`SELECT count(*)::int AS n FROM event WHERE message LIKE 'Database connection lost%'`))[0].n).toBe(1);
  });
});
