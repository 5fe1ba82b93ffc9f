import { describe, expect, it } from 'vitest';
import { isQueueId, newQueueId } from '../../src/queue/queue-id.js';

describe('newQueueId', () => {
  it('is 17 characters of digits and consonants only', () => {
    for (let i = 0; i < 200; i++) {
      const id = newQueueId();
      expect(id).toHaveLength(17);
      expect(id).toMatch(/^[0-9BCDFGHJKLMNPQRSTVWXYZ]{17}$/);
    }
  });

  it('encodes the time in base 31 in the first 9 characters', () => {
    expect(newQueueId(0).slice(0, 9)).toBe('000000000');
    expect(newQueueId(30).slice(0, 9)).toBe('00000000Z');
    expect(newQueueId(31).slice(0, 9)).toBe('000000010');
    expect(newQueueId(31 * 31 + 1).slice(0, 9)).toBe('000000101');
  });

  it('sorts by time as plain strings, also across a carry of the time digits', () => {
    const times = [0, 30, 31, 961, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 4_102_444_800_000];
    const ids = times.map((t) => newQueueId(t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  it('differs between ids made in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newQueueId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id.slice(0, 9)).toBe(newQueueId(1_700_000_000_000).slice(0, 9));
  });
});

describe('isQueueId', () => {
  it('accepts ids that newQueueId makes', () => {
    expect(isQueueId(newQueueId())).toBe(true);
    expect(isQueueId('0000000000000000Z')).toBe(true);
  });

  it('rejects wrong lengths, lower case, vowels and other characters', () => {
    const id = newQueueId();
    expect(isQueueId('')).toBe(false);
    expect(isQueueId(id.slice(0, 16))).toBe(false);
    expect(isQueueId(`${id}0`)).toBe(false);
    expect(isQueueId(id.toLowerCase().replace(/[0-9]/g, 'b'))).toBe(false);
    for (const bad of ['A', 'E', 'I', 'O', 'U', '-', ' ']) expect(isQueueId(`0000000000000000${bad}`)).toBe(false);
    expect(isQueueId(`${id}\n`)).toBe(false);
  });
});
