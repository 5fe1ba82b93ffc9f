import { describe, expect, it } from 'vitest';
import { keysetPage } from '../../src/common/keyset-page.js';
import { decodeCursor } from '../../src/common/pagination.js';
import { KeysetQuery } from '../../src/database/keyset-query.js';

describe('KeysetQuery: the SQL of every keyset-paginated listing', () => {
  it('ANDs the filters, then pages below the cursor, newest first, with one row more than shown', () => {
    const q = new KeysetQuery();
    q.where(`event = ${q.p('sent')}`);
    const pattern = q.p('%ops%');
    q.where(`(sender ILIKE ${pattern} OR recipient ILIKE ${pattern})`);
    expect(q.text('SELECT id::text AS id FROM mail_log', 'mail_log.id', { cursor: '120', limit: 50 })).toBe(
      'SELECT id::text AS id FROM mail_log WHERE event = $1 AND (sender ILIKE $2 OR recipient ILIKE $2) AND mail_log.id < $3 ORDER BY mail_log.id DESC LIMIT $4',
    );
    expect(q.params).toEqual(['sent', '%ops%', '120', 51]);
  });

  it('reads the rows just above `before` oldest first, and bounds a window when given both', () => {
    const q = new KeysetQuery();
    expect(q.text('SELECT id FROM message', 'id', { cursor: 'b', before: 'a', limit: 10 })).toBe('SELECT id FROM message WHERE id < $1 AND id > $2 ORDER BY id ASC LIMIT $3');
    expect(q.params).toEqual(['b', 'a', 11]);
  });

  it('has no WHERE without filters or position', () => {
    const q = new KeysetQuery();
    expect(q.text('SELECT id FROM event', 'event.id', { limit: 5 })).toBe('SELECT id FROM event ORDER BY event.id DESC LIMIT $1');
  });
});

describe('keysetPage: the page of a keyset query’s rows', () => {
  const rows = (...ids: number[]) => ids.map((id) => ({ id: String(id) }));
  const key = (cursor: string | null | undefined) => (cursor ? decodeCursor(cursor, () => true) : cursor);

  it('going down: the extra row only says an older page exists', () => {
    const page = keysetPage(rows(9, 8, 7), { limit: 2 }, (r) => r.id);
    expect(page.items).toEqual(['9', '8']);
    expect(key(page.nextCursor)).toBe('8');
    expect(page.prevCursor).toBeUndefined();
  });

  it('going up: the rows read oldest first are turned around, and the extra one says a newer page exists', () => {
    const page = keysetPage(rows(4, 5, 6), { before: '3', limit: 2 }, (r) => r.id);
    expect(page.items).toEqual(['5', '4']);
    expect(key(page.nextCursor)).toBe('4');
    expect(key(page.prevCursor)).toBe('5');
    expect(keysetPage(rows(4), { before: '3', limit: 2 }, (r) => r.id).prevCursor).toBeNull();
  });
});
