import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import type { TestProject } from 'vitest/node';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { runMigrations } from '../../src/database/migrate.js';
import { ENTITIES } from '../../src/entities.js';

export const TEMPLATE_DB = 'postroom_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL when set, otherwise an embedded server in a
 * temporary directory. A migrated template database makes each test file's database cheap.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let embedded: EmbeddedPostgres | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'postroom-test-pg-'));
    // Sized for the suite, not for one Postroom: test files run in parallel, each with its own
    // Postroom processes and data sources on this one server.
    embedded = new EmbeddedPostgres({ dataDir: path.join(dir, 'pg'), maxConnections: 200, logger: pino({ level: 'warn' }) });
    adminUrl = await embedded.start();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();

  const templateUrl = withDatabase(adminUrl, TEMPLATE_DB);
  const ds = new DataSource(dataSourceOptions(templateUrl, 2, ENTITIES));
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();

  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}
