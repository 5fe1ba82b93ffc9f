import { describe, expect, it } from 'vitest';
import { REFRESH_AHEAD_MS, TokenCache, refreshAt } from '../../src/delivery/oauth/token-cache.js';

describe('refreshAt', () => {
  it('refreshes 5 minutes before expires_in runs out', () => {
    expect(refreshAt(1_000_000, 3600)).toBe(1_000_000 + 3600_000 - REFRESH_AHEAD_MS);
    expect(REFRESH_AHEAD_MS).toBe(300_000);
  });

  it('refreshes short-lived tokens (under 10 minutes) at half their life', () => {
    expect(refreshAt(0, 1)).toBe(500);
    expect(refreshAt(0, 300)).toBe(150_000);
    expect(refreshAt(0, 0)).toBe(0);
  });

  it('the two rules meet at 10 minutes: a 10-minute token is renewed after 5, an 11-minute one 5 minutes before it expires', () => {
    expect(refreshAt(0, 600)).toBe(300_000);
    expect(refreshAt(0, 660)).toBe(360_000);
    expect(refreshAt(0, 540)).toBe(270_000);
  });
});

describe('TokenCache', () => {
  const setup = (expiresIn = 3600) => {
    let now = 0;
    let n = 0;
    const calls: number[] = [];
    const cache = new TokenCache(
      async () => {
        calls.push(now);
        return { accessToken: `t${++n}`, expiresIn };
      },
      () => now,
    );
    return { cache, calls, advance: (ms: number) => (now += ms) };
  };

  it('reuses a token until 5 minutes before it expires, then fetches a new one', async () => {
    const { cache, calls, advance } = setup(3600);
    expect(await cache.get()).toBe('t1');
    advance(3600_000 - REFRESH_AHEAD_MS - 1);
    expect(await cache.get()).toBe('t1');
    expect(cache.fresh).toBe(true);
    advance(1);
    expect(cache.fresh).toBe(false);
    expect(await cache.get()).toBe('t2');
    expect(calls).toEqual([0, 3600_000 - REFRESH_AHEAD_MS]);
  });

  it('a token that expires in 1 second is replaced before the next use after that', async () => {
    const { cache, advance } = setup(1);
    expect(await cache.get()).toBe('t1');
    advance(400);
    expect(await cache.get()).toBe('t1');
    advance(600);
    expect(await cache.get()).toBe('t2');
  });

  it('force fetches a new token even while the cached one is fresh', async () => {
    const { cache } = setup();
    expect(await cache.get()).toBe('t1');
    expect(await cache.get(true)).toBe('t2');
    expect(await cache.get()).toBe('t2');
  });

  it('shares one request between concurrent callers', async () => {
    const { cache, calls } = setup();
    const all = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect(all).toEqual(['t1', 't1', 't1']);
    expect(calls).toHaveLength(1);
  });

  it('does not cache a failure: the next caller tries again', async () => {
    let fail = true;
    let n = 0;
    const cache = new TokenCache(async () => {
      n++;
      if (fail) throw new Error('invalid_client');
      return { accessToken: 'ok', expiresIn: 3600 };
    });
    await expect(cache.get()).rejects.toThrow('invalid_client');
    fail = false;
    expect(await cache.get()).toBe('ok');
    expect(n).toBe(2);
  });
});
