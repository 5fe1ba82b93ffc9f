import { describe, expect, it } from 'vitest';
import { MAX_DIGEST_MESSAGES, partBytes, planDigests } from '../../src/storm/digest-mime.js';

describe('planDigests', () => {
  const messages = (n: number, size = 1000) => Array.from({ length: n }, (_, i) => ({ id: i, size }));

  it('splits by size, in order, and sets apart a message too large for any digest', () => {
    const room = 10 * partBytes(1000) + 500;
    const plan = planDigests([...messages(12), { id: 99, size: 50_000 }], room, 500);
    expect(plan.runs.map((r) => r.length)).toEqual([10, 2]);
    expect(plan.runs.flat().map((m) => m.id)).toEqual([...Array(12).keys()]);
    expect(plan.tooLarge.map((m) => m.id)).toEqual([99]);
  });

  it('puts at most MAX_DIGEST_MESSAGES messages in one digest, whatever the room', () => {
    const plan = planDigests(messages(2 * MAX_DIGEST_MESSAGES + 1, 10), 1 << 30, 0);
    expect(plan.runs.map((r) => r.length)).toEqual([MAX_DIGEST_MESSAGES, MAX_DIGEST_MESSAGES, 1]);
  });
});
