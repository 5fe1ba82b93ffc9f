import { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { Sql, sqlOf } from '../../src/database/sql.js';

describe('Sql, the one way to hand-written SQL (real PostgreSQL)', () => {
  let ds: DataSource;
  let sql: Sql;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ ds, sql, close } = await openTestDataSource());
    await sql.rows(`CREATE TABLE scratch (id int PRIMARY KEY, data bytea)`);
  });

  afterAll(async () => {
    await close?.();
  });

  beforeEach(async () => {
    await sql.rows(`DELETE FROM scratch`);
  });

  it('is one per data source, and on the pool TypeORM made: the same connections', async () => {
    expect(sqlOf(ds)).toBe(sql);
    const { pid } = (await sql.rows<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))[0]!;
    const pids: { pid: number }[] = await ds.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'postroom' AND datname = current_database()`);
    expect(pids.map((r) => r.pid)).toContain(pid);
  });

  it('refuses a data source whose options did not come from dataSourceOptions()', async () => {
    const foreign = new DataSource({ type: 'postgres', url: (ds.options as { url: string }).url });
    await expect(sqlOf(foreign).rows('SELECT 1')).rejects.toThrow(/dataSourceOptions/);
  });

  it('answers every command with its rows, UPDATE and DELETE included', async () => {
    expect(await sql.rows(`INSERT INTO scratch (id) VALUES (1), (2) RETURNING id`)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await sql.rows(`UPDATE scratch SET id = id + 10 WHERE id = $1 RETURNING id`, [1])).toEqual([{ id: 11 }]);
    expect(await sql.rows(`DELETE FROM scratch WHERE id = $1 RETURNING id`, [2])).toEqual([{ id: 2 }]);
  });

  it('runs a prepared statement as often as asked, on the pool and in a transaction', async () => {
    const text = `INSERT INTO scratch (id) VALUES ($1) RETURNING id`;
    for (let i = 1; i <= 30; i++) expect(await sql.prepared(text, [i])).toEqual([{ id: i }]);
    await sql.transaction(async (tx) => {
      expect(await sql.prepared(text, [31], tx)).toEqual([{ id: 31 }]);
    });
    expect(await sql.rows(`SELECT count(*)::int AS n FROM scratch`)).toEqual([{ n: 31 }]);
  });

  it('runs what afterCommit was given once the transaction commits, and never when it rolls back', async () => {
    const seen: string[] = [];
    await sql.transaction(async (tx) => {
      await sql.rows(`INSERT INTO scratch (id) VALUES (1)`, [], tx);
      sql.afterCommit(tx, () => seen.push('committed'));
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual(['committed']);

    await expect(
      sql.transaction(async (tx) => {
        await sql.rows(`INSERT INTO scratch (id) VALUES (2)`, [], tx);
        sql.afterCommit(tx, () => seen.push('rolled back'));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(seen).toEqual(['committed']);
    expect(await sql.rows(`SELECT id FROM scratch ORDER BY id`)).toEqual([{ id: 1 }]);

    sql.afterCommit(undefined, () => seen.push('no transaction: at once'));
    expect(seen).toEqual(['committed', 'no transaction: at once']);
  });

  it('streams COPY input inside a transaction', async () => {
    await sql.transaction((tx) => sql.copyIn(tx, `COPY scratch (id) FROM STDIN`, [Buffer.from('1\n2\n'), Buffer.from('3\n')]));
    expect(await sql.rows(`SELECT id FROM scratch ORDER BY id`)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('keeps one connection for a session: a session lock is still its own on the next statement', async () => {
    const held = await sql.session(async (s) => {
      await sql.rows(`SELECT pg_advisory_lock(4242)`, [], s);
      const { mine } = (await sql.rows<{ mine: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND pid = pg_backend_pid()) AS mine`,
        [],
        s,
      ))[0]!;
      await sql.rows(`SELECT pg_advisory_unlock(4242)`, [], s);
      return mine;
    });
    expect(held).toBe(true);
  });
});

describe('PgNotifier.notify, the one wake-up helper (real PostgreSQL)', () => {
  let ds: DataSource;
  let sql: Sql;
  let close: () => Promise<void>;
  let notifier: PgNotifier;

  beforeAll(async () => {
    ({ ds, sql, close } = await openTestDataSource());
    notifier = new PgNotifier(ds, silentLogger);
    await notifier.start();
  });

  afterAll(async () => {
    await notifier?.onApplicationShutdown();
    await close?.();
  });

  /** What this instance's listeners hear on a channel, locally and by NOTIFY ('' is PostgreSQL's payload). */
  function listen(): string[] {
    const heard: string[] = [];
    notifier.on('postroom_wakeup', (payload) => heard.push(payload));
    return heard;
  }

  it('tells this instance after the commit, and the others through PostgreSQL', async () => {
    const heard = listen();
    await sql.transaction(async (tx) => {
      await notifier.notify('postroom_wakeup', tx, 'flush');
      expect(heard).toEqual([]);
    });
    expect(heard).toContain('flush');
    // PostgreSQL's NOTIFY, from the commit, on the listening connection (this instance hears it too).
    for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(heard.sort()).toEqual(['', 'flush']);
  });

  it('tells no one when the transaction rolls back', async () => {
    const heard = listen();
    await expect(
      sql.transaction(async (tx) => {
        await notifier.notify('postroom_wakeup', tx, 'flush');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([]);
  });
});
