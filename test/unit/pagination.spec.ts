import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../src/common/domain-errors.js';
import { DEFAULT_LIMIT, MAX_LIMIT, decodeCursor, encodeCursor, isBigintKey, parseEnum, parseLimit, parseTime, toPage } from '../../src/common/pagination.js';

/** The message and fields of the InvalidInput (a 400) fn throws. */
function badRequest(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInput);
    return { message: (err as InvalidInput).message, fields: (err as InvalidInput).fields };
  }
  throw new Error('no exception');
}

describe('parseLimit', () => {
  it('defaults to 50 when absent or empty', () => {
    expect(DEFAULT_LIMIT).toBe(50);
    expect(parseLimit(undefined)).toBe(50);
    expect(parseLimit('')).toBe(50);
  });

  it('accepts whole numbers from 1 to 500 as strings or numbers', () => {
    expect(MAX_LIMIT).toBe(500);
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('120')).toBe(120);
    expect(parseLimit('500')).toBe(500);
    expect(parseLimit(25)).toBe(25);
  });

  it.each(['0', '501', '-1', '1.5', 'abc', 'NaN', 'Infinity', null, ['10', '20'], {}])('throws a 400 naming "limit" when it is %j', (raw) => {
    expect(badRequest(() => parseLimit(raw))).toEqual({ message: 'Invalid query', fields: { limit: 'must be a whole number from 1 to 500' } });
  });
});

describe('encodeCursor / decodeCursor', () => {
  const any = () => true;

  it('round-trips a key through an opaque base64url cursor', () => {
    for (const key of ['12345', '2026-03-01T12:00:00.000Z|0BCDFGHJK12345678', 'ünïcode/+?=&']) {
      const cursor = encodeCursor(key);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeCursor(cursor, any)).toBe(key);
    }
  });

  it('returns undefined when no cursor is given', () => {
    expect(decodeCursor(undefined, any)).toBeUndefined();
    expect(decodeCursor('', any)).toBeUndefined();
  });

  it('throws a 400 naming "cursor" when the decoded key fails the validator', () => {
    expect(badRequest(() => decodeCursor(encodeCursor('not-a-number'), isBigintKey))).toEqual({ message: 'Invalid query', fields: { cursor: 'is not a cursor this list gave' } });
  });

  it('throws a 400 for a cursor that is not a string', () => {
    expect(badRequest(() => decodeCursor(['MTI', 'MTM'], isBigintKey))).toEqual({ message: 'Invalid query', fields: { cursor: 'is not a cursor this list gave' } });
  });

  it('passes the decoded key to the validator', () => {
    const seen: string[] = [];
    decodeCursor(encodeCursor('42'), (k) => (seen.push(k), true));
    expect(seen).toEqual(['42']);
  });
});

describe('toPage', () => {
  const rows = [{ id: '1' }, { id: '2' }, { id: '3' }];

  it('returns limit items and a cursor for the last of them when there are more rows', () => {
    expect(toPage(rows, 2, (r) => r.id)).toEqual({ items: [{ id: '1' }, { id: '2' }], nextCursor: encodeCursor('2') });
  });

  it('returns no cursor when the rows fit in the page', () => {
    expect(toPage(rows, 3, (r) => r.id)).toEqual({ items: rows, nextCursor: null });
    expect(toPage(rows.slice(0, 1), 3, (r) => r.id)).toEqual({ items: [{ id: '1' }], nextCursor: null });
  });

  it('returns an empty page without cursor when there are no rows', () => {
    expect(toPage([], 50, (r: { id: string }) => r.id)).toEqual({ items: [], nextCursor: null });
  });

  it('gives a cursor that decodes to the key of the last item', () => {
    const page = toPage(rows, 1, (r) => r.id);
    expect(decodeCursor(page.nextCursor ?? undefined, isBigintKey)).toBe('1');
  });
});

describe('isBigintKey', () => {
  it('accepts 1 to 19 digits only', () => {
    expect(isBigintKey('0')).toBe(true);
    expect(isBigintKey('9'.repeat(19))).toBe(true);
    expect(isBigintKey('9'.repeat(20))).toBe(false);
    expect(isBigintKey('')).toBe(false);
    expect(isBigintKey('-1')).toBe(false);
    expect(isBigintKey('1 ')).toBe(false);
    expect(isBigintKey('1e3')).toBe(false);
  });
});

describe('parseTime', () => {
  it('returns undefined when absent or empty', () => {
    expect(parseTime(undefined, 'since')).toBeUndefined();
    expect(parseTime('', 'since')).toBeUndefined();
  });

  it('parses an ISO 8601 date and time', () => {
    expect(parseTime('2026-03-01T12:30:00Z', 'since')).toEqual(new Date(Date.UTC(2026, 2, 1, 12, 30)));
    expect(parseTime('2026-03-01T12:30:00+02:00', 'since')).toEqual(new Date(Date.UTC(2026, 2, 1, 10, 30)));
  });

  it('throws a 400 naming the given field when the value is not a date', () => {
    expect(badRequest(() => parseTime('yesterday', 'until'))).toEqual({ message: 'Invalid query', fields: { until: 'must be an ISO 8601 date and time' } });
    expect(badRequest(() => parseTime('2026-13-45T00:00:00Z', 'since'))).toEqual({ message: 'Invalid query', fields: { since: 'must be an ISO 8601 date and time' } });
  });

  it('throws a 400 when the value is not a string', () => {
    expect(badRequest(() => parseTime(['2026-03-01T00:00:00Z'], 'since'))).toEqual({ message: 'Invalid query', fields: { since: 'must be an ISO 8601 date and time' } });
    expect(badRequest(() => parseTime(1_700_000_000_000, 'since'))).toEqual({ message: 'Invalid query', fields: { since: 'must be an ISO 8601 date and time' } });
  });
});

describe('parseEnum', () => {
  const statuses = ['queued', 'deferred', 'held'] as const;

  it('returns undefined when absent or empty', () => {
    expect(parseEnum(undefined, 'status', statuses)).toBeUndefined();
    expect(parseEnum('', 'status', statuses)).toBeUndefined();
  });

  it('returns an allowed value', () => {
    expect(parseEnum('deferred', 'status', statuses)).toBe('deferred');
  });

  it('throws a 400 naming the field and listing the allowed values otherwise', () => {
    const body = { message: 'Invalid query', fields: { status: 'must be one of queued, deferred, held' } };
    expect(badRequest(() => parseEnum('Deferred', 'status', statuses))).toEqual(body);
    expect(badRequest(() => parseEnum('sent', 'status', statuses))).toEqual(body);
    expect(badRequest(() => parseEnum(['queued'], 'status', statuses))).toEqual(body);
  });
});
