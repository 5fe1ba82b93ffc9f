/**
 * Where a page of a listing starts: below `cursor` (the Next link's and the API's), or just above
 * `before` (a Prev link's); both together bound a window. `limit` rows are shown.
 */
export interface KeysetPosition {
  cursor?: string;
  before?: string;
  limit: number;
}

/**
 * The SQL of a keyset-paginated listing (the queue, the mail log, the event log): filters ANDed
 * together with their parameters, then the position on an indexed key and limit + 1 rows — the
 * extra one says whether another page exists. Newest first; with `before`, oldest first (the
 * rows just above it), which keysetPage (common/keyset-page.ts) turns around.
 */
export class KeysetQuery {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** The placeholder of a new parameter. */
  p(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  /** A filter, written with placeholders from p(). */
  where(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** The statement: `select` (`SELECT … FROM table`), the filters and the page on `key` (qualified when an output column shares its name). */
  text(select: string, key: string, at: KeysetPosition): string {
    if (at.cursor) this.where(`${key} < ${this.p(at.cursor)}`);
    if (at.before) this.where(`${key} > ${this.p(at.before)}`);
    const where = this.conditions.length ? ` WHERE ${this.conditions.join(' AND ')}` : '';
    return `${select}${where} ORDER BY ${key} ${at.before ? 'ASC' : 'DESC'} LIMIT ${this.p(at.limit + 1)}`;
  }
}
