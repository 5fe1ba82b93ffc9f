import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { PgDriver } from './pg-driver.js';

/**
 * One connection a caller holds: a transaction's (Sql.transaction) or a session's (Sql.session).
 * It is TypeORM's EntityManager on purpose: the few entity repositories (settings, relays) and
 * hand-written SQL then share one kind of transaction, and a module's SQL can join a transaction
 * another module opened.
 */
export type Conn = EntityManager;

/** Statement texts prepared by name, per pool: past the bound, a statement runs unnamed. */
const MAX_PREPARED = 64;

/** Run after a transaction commits: what the transaction's callers registered with afterCommit. */
const afterCommitHooks = new WeakMap<Conn, (() => void)[]>();

/**
 * The one way to hand-written SQL (every module's repository): rows, the same as a named
 * prepared statement, a transaction, a session, COPY. It runs on pg's pool directly — the pool
 * TypeORM made from our options (PgDriver), so entity repositories and this share connections —
 * and always answers with the rows, whatever the command (RETURNING). One per data source
 * (sqlOf), because prepared statement names are per pool.
 */
export class Sql {
  private readonly names = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {}

  /** The rows of a statement: on the pool (it commits on its own), or on a held connection. */
  async rows<T>(text: string, values: unknown[] = [], on?: Conn): Promise<T[]> {
    const result = await (await this.client(on)).query<T & pg.QueryResultRow>(text, values);
    return result.rows;
  }

  /**
   * The same for a hot statement whose text never changes (a batch travels in its parameters):
   * it runs as a named prepared statement, so each connection parses and plans it once, not on
   * every call — parsing and planning were most of PostgreSQL's time per message.
   */
  async prepared<T>(text: string, values: unknown[], on?: Conn): Promise<T[]> {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < MAX_PREPARED) this.names.set(text, (name = `postroom_${this.names.size + 1}`));
    const result = await (await this.client(on)).query<T & pg.QueryResultRow>({ name, text, values });
    return result.rows;
  }

  /** Runs `fn` in a transaction; what `fn` gave afterCommit runs once it has committed. */
  async transaction<T>(fn: (tx: Conn) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = [];
    const result = await this.dataSource.transaction((tx) => {
      afterCommitHooks.set(tx, hooks);
      return fn(tx);
    });
    for (const hook of hooks) hook();
    return result;
  }

  /** Runs `hook` once `tx` has committed (never when it rolls back); at once without a transaction. */
  afterCommit(tx: Conn | undefined, hook: () => void): void {
    if (!tx) return hook();
    const hooks = afterCommitHooks.get(tx);
    if (!hooks) throw new Error('afterCommit needs a transaction of Sql.transaction');
    hooks.push(hook);
  }

  /**
   * One connection for a while, outside a transaction (each statement commits on its own): for
   * what belongs to a session, such as an advisory lock held across several transactions.
   */
  async session<T>(fn: (s: Conn) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await fn(runner.manager);
    } finally {
      await runner.release();
    }
  }

  /** Streams `chunks` into a `COPY … FROM STDIN` on a held connection: memory stays at one chunk. */
  async copyIn(on: Conn, text: string, chunks: Iterable<Buffer>): Promise<void> {
    const client = (await this.client(on)) as pg.PoolClient;
    // pg-copy-streams is loaded with the first body big enough to be copied in.
    const { from: copyFrom } = await import('pg-copy-streams');
    await pipeline(Readable.from(chunks, { objectMode: false }), client.query(copyFrom(text)));
  }

  /** The held connection's client (TypeORM's public QueryRunner.connect() gives it), or the pool. */
  private async client(on: Conn | undefined): Promise<pg.Pool | pg.PoolClient> {
    if (on?.queryRunner) return (await on.queryRunner.connect()) as pg.PoolClient;
    return PgDriver.poolOf(this.dataSource);
  }
}

const perDataSource = new WeakMap<DataSource, Sql>();

/** The Sql of a data source made with dataSourceOptions() (Nest provides the app's as `Sql`). */
export function sqlOf(dataSource: DataSource): Sql {
  let sql = perDataSource.get(dataSource);
  if (!sql) perDataSource.set(dataSource, (sql = new Sql(dataSource)));
  return sql;
}

/**
 * The rows of a statement run through TypeORM's query(), which answers UPDATE and DELETE with
 * `[rows, affectedCount]` rather than the rows.
 * @deprecated Use Sql.rows: this stays for code not yet moved to it (auth, web sessions, relays).
 */
export async function queryRows<T>(db: Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>, sql: string, params: unknown[] = []): Promise<T[]> {
  const result: unknown = await db.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
