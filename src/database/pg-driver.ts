import pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * pg as TypeORM's `driver` option (documented: "the driver object, defaults to require('pg')"),
 * with a Pool class that keeps the pool TypeORM makes with it. TypeORM still builds that pool
 * from our options (`extra`: size, timeouts, application name) and ends it when its data source
 * is destroyed; Sql (sql.ts) runs hand-written SQL on the same pool — the same connections, the
 * same budget — and reaches it through the public `DataSource.options`, never the driver's
 * internals (`driver.master`). TypeORM uses nothing else of this object (it loads `pg-native`
 * only when this object has `native`, which it does not).
 */
export class PgDriver {
  private made?: pg.Pool;
  readonly Pool: typeof pg.Pool;

  constructor() {
    const driver = this;
    this.Pool = class extends pg.Pool {
      constructor(config?: pg.PoolConfig) {
        super(config);
        driver.made = this;
      }
    };
  }

  /** The pool of a data source whose options came from dataSourceOptions(), once it is initialized. */
  static poolOf(dataSource: DataSource): pg.Pool {
    const driver = (dataSource.options as { driver?: unknown }).driver;
    if (!(driver instanceof PgDriver)) throw new Error('this data source was not made with dataSourceOptions(): it has no pool of ours');
    if (!driver.made) throw new Error('the data source is not initialized yet');
    return driver.made;
  }
}
