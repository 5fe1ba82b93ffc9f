import { describe, expect, it } from 'vitest';
import { Batcher, ItemFailure } from '../../src/common/batcher.js';

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

  it('lets a lazy item ride along with the next eager one', async () => {
    const batches: string[][] = [];
    const b = new Batcher<string, string>(async (items) => (batches.push(items), items), { maxBatch: 10, maxConcurrent: 1, lingerMs: 1000 });
    const lazy = b.add('outcome', true);
    await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([]); // still waiting
    await Promise.all([b.add('message'), lazy]);
    expect(batches).toEqual([['outcome', 'message']]);
  });

  it('flushes lazy items alone after lingerMs, or at once when they fill a batch', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (items) => (batches.push(items), items), { maxBatch: 3, maxConcurrent: 1, lingerMs: 30 });
    const started = Date.now();
    await b.add(1, true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    await Promise.all([b.add(2, true), b.add(3, true), b.add(4, true)]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects only the items a flush answers with an ItemFailure', async () => {
    const b = new Batcher<number, number>(async (items) => items.map((i) => (i % 2 ? new ItemFailure(new Error(`odd ${i}`)) : i)), { maxBatch: 10, maxConcurrent: 1 });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => b.add(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['odd 1', 2, 'odd 3', 4]);
  });
});
