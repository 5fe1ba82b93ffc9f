/** JSON.stringify's replacer: strings PostgreSQL's jsonb takes (no lone surrogates, no NUL). */
function storable(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.toWellFormed().replaceAll('\u0000', '\uFFFD') : value;
}

/** JSON that jsonb takes: JSON.stringify writes NUL and lone surrogates as \u escapes, which are then mended (rare). */
function jsonForPostgres(rows: object[]): string {
  const json = JSON.stringify(rows);
  return /\\u(0000|d[89a-f])/i.test(json) ? JSON.stringify(rows, storable) : json;
}

/** PostgreSQL's binary array format of bytea[] (what array_recv reads): one dimension, no NULLs. */
function byteaArray(values: Buffer[]): Buffer {
  const BYTEA_OID = 17;
  let size = 20;
  for (const v of values) size += 4 + v.length;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no NULLs
  out.writeInt32BE(BYTEA_OID, 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (const v of values) {
    out.writeInt32BE(v.length, at);
    v.copy(out, at + 4);
    at += 4 + v.length;
  }
  return out;
}

/**
 * One SQL statement made of data-modifying CTEs — `WITH a AS (INSERT …), b AS (DELETE …) SELECT …`
 * — with its parameters collected as the parts are written. A single statement is atomic on its
 * own (its own transaction), so a whole batch of changes costs one round trip and one commit
 * instead of BEGIN, a statement per table and COMMIT. Rows travel as one jsonb parameter and
 * bytes as one bytea[] parameter, so the text does not depend on how many rows a batch has:
 * the statement is prepared once per connection and planned once.
 */
export class CompositeStatement {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** The placeholder of a new parameter (`$7`, or `$7::timestamptz` with a cast). */
  p(value: unknown, cast?: string): string {
    this.params.push(value);
    return cast ? `$${this.params.length}::${cast}` : `$${this.params.length}`;
  }

  /** Rows as one jsonb parameter, to read with `jsonb_to_recordset(…) AS r(column type, …)`. */
  json(rows: object[]): string {
    return this.p(jsonForPostgres(rows), 'jsonb');
  }

  /** Byte strings as one bytea[] parameter in binary format (no hex, no escaping), to read with `unnest`. */
  bytes(values: Buffer[]): string {
    return this.p(byteaArray(values), 'bytea[]');
  }

  /** Adds a named part; later parts and the final SELECT can read its rows by name. */
  with(name: string, sql: string): this {
    this.parts.push(`${name} AS (${sql})`);
    return this;
  }

  /** The whole statement, ending with `final` (e.g. `SELECT id FROM done`). */
  text(final: string): string {
    return this.parts.length ? `WITH ${this.parts.join(', ')} ${final}` : final;
  }
}
