import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/common/batcher.js';

describe(Batcher.name, () => {
  it('flushes a lone item at once and groups items that arrive during a flush', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((i) => i * 10);
      },
      { maxBatch: 100, maxConcurrent: 1 },
    );
    const first = b.add(1);
    const rest = [b.add(2), b.add(3), b.add(4)];
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects every item of a failed batch and goes on with the next', async () => {
    let calls = 0;
    const b = new Batcher<number, number>(
      async (items) => {
        calls++;
        if (calls === 1) throw new Error('database down');
        return items;
      },
      { maxBatch: 10, maxConcurrent: 1 },
    );
    await expect(b.add(1)).rejects.toThrow('database down');
    await expect(b.add(2)).resolves.toBe(2);
  });

  it('never puts more than maxBatch items in one flush', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (items) => (sizes.push(items.length), items), { maxBatch: 3, maxConcurrent: 1 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.add(i)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, n) => a + n, 0)).toBe(8);
  });
});
