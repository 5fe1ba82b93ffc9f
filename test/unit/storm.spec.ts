import { describe, expect, it } from 'vitest';
import { digestText } from '../../src/storm/storm-digest.js';
import { StormGuard } from '../../src/storm/storm-guard.js';

const alert = { sender: 'zfs@nas.local', recipients: ['ops@example.com'], subject: 'Pool degraded' };
const s = { stormWindowMinutes: 10, stormMaxDuplicates: 3, senderRateLimitPerMinute: 0 };

describe('StormGuard', () => {
  it('lets maxDuplicates identical messages through per window, then holds the rest for one digest at its end', () => {
    const g = new StormGuard();
    const t0 = 1_000_000;
    const v = Array.from({ length: 6 }, (_, i) => g.check(alert, s, t0 + i * 1000));
    expect(v.map((x) => x.hold)).toEqual([false, false, false, true, true, true]);
    const held = v.filter((x) => x.hold);
    expect(new Set(held.map((x) => x.hold && x.digestKey)).size).toBe(1);
    expect(held.map((x) => x.hold && x.first)).toEqual([true, false, false]);
    expect(held[0]!.hold && held[0]!.dueAt.getTime()).toBe(t0 + 10 * 60_000);
    // A new window after the end: three more go through.
    expect(g.check(alert, s, t0 + 10 * 60_000).hold).toBe(false);
  });

  it('treats recipients as a set and the subject without case or spacing differences', () => {
    const g = new StormGuard();
    const two = { ...alert, recipients: ['b@example.com', 'a@example.com'] };
    for (let i = 0; i < 3; i++) g.check(two, s, i);
    expect(g.check({ ...two, recipients: ['A@example.com', 'b@example.com'], subject: '  pool   DEGRADED ' }, s, 5).hold).toBe(true);
    expect(g.check({ ...two, subject: 'Pool online' }, s, 6).hold).toBe(false);
    expect(g.check({ ...two, sender: 'other@nas.local' }, s, 7).hold).toBe(false);
  });

  it('is off with maxDuplicates 0; the sender rate limit counts messages let through per minute', () => {
    const g = new StormGuard();
    const off = { ...s, stormMaxDuplicates: 0 };
    expect(Array.from({ length: 20 }, (_, i) => g.check(alert, off, i).hold).every((h) => !h)).toBe(true);
    const rate = { ...off, senderRateLimitPerMinute: 2 };
    const v = Array.from({ length: 4 }, (_, i) => g.check({ ...alert, sender: 'backup@nas.local', subject: `job ${i}` }, rate, 100 + i));
    expect(v.map((x) => x.hold)).toEqual([false, false, true, true]);
    expect(v[2]!.hold && v[2]!.reason).toBe('rate');
    expect(g.check({ ...alert, sender: 'backup@nas.local' }, rate, 100 + 60_000).hold).toBe(false);
  });

  it('forgets a message that was not stored, so a client retrying through a database outage is not held', () => {
    const g = new StormGuard();
    // Three real alerts, and one that the database refused (451) and the client retries twice.
    for (let i = 0; i < 3; i++) g.check({ ...alert, subject: `Disk ${i}` }, s, i);
    for (let retry = 0; retry < 5; retry++) {
      const v = g.check(alert, s, 10 + retry);
      expect(v.hold).toBe(false);
      if (retry < 4) g.forget(alert, s, v); // refused: not stored
    }
    // Stored once: two more identical ones still go through, the fourth is held.
    expect([g.check(alert, s, 20).hold, g.check(alert, s, 21).hold, g.check(alert, s, 22).hold]).toEqual([false, false, true]);
  });

  it('forgets a held message that was not stored, and a rate-limited one', () => {
    const g = new StormGuard();
    const both = { ...s, senderRateLimitPerMinute: 1 };
    const first = g.check(alert, both, 0);
    expect(first.hold).toBe(false);
    const second = g.check({ ...alert, subject: 'other' }, both, 1);
    expect(second.hold && second.reason).toBe('rate');
    g.forget({ ...alert, subject: 'other' }, both, second);
    g.forget(alert, both, first);
    expect(g.check(alert, both, 2).hold).toBe(false);
  });
});

describe('digestText', () => {
  it('says "42 × \'Pool degraded\' since 10:03" with the count and the local time', () => {
    const held = Array.from({ length: 42 }, (_, i) => ({ id: `Q${i}`, subject: 'Pool degraded', createdAt: new Date(Date.UTC(2026, 10, 20, 10, 3 + Math.floor(i / 10), 0)) }));
    const d = digestText({ reason: 'duplicate', sender: 'zfs@nas.local', recipients: ['ops@example.com'], held, limit: 3, windowMinutes: 10, timeZone: 'UTC' });
    expect(d.subject).toBe("[Postroom digest] 42 × 'Pool degraded' since 10:03");
    expect(d.lines).toEqual(["42 × 'Pool degraded' since 10:03"]);
    expect(d.text).toContain("42 × 'Pool degraded' since 10:03 (last at 10:07)");
    expect(d.text).toContain('more than 3 identical messages (same sender, recipients and subject) within 10 min');
  });

  it('groups by subject, largest first, for a sender over its rate', () => {
    const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 8, m));
    const held = [
      { id: 'a', subject: 'Job 1 failed', createdAt: at(1) },
      { id: 'b', subject: 'Job 2 failed', createdAt: at(2) },
      { id: 'c', subject: 'Job 2 failed', createdAt: at(3) },
    ];
    const d = digestText({ reason: 'rate', sender: 'backup@nas.local', recipients: ['ops@example.com'], held, limit: 60, windowMinutes: 1, timeZone: 'Europe/Paris' });
    expect(d.lines).toEqual(["2 × 'Job 2 failed' since 09:02", "1 × 'Job 1 failed' since 09:01"]);
    expect(d.subject).toBe('[Postroom digest] 3 messages from backup@nas.local held back since 09:01');
  });
});

describe('storm and retention settings', async () => {
  const { settingsInputSchema } = await import('../../src/settings/dto/settings-input.js');
  it('accepts the documented ranges and names the field otherwise', () => {
    expect(settingsInputSchema.safeParse({ retentionDays: 30, stormWindowMinutes: 1, stormMaxDuplicates: 0, senderRateLimitPerMinute: 0 }).success).toBe(true);
    for (const bad of [{ retentionDays: 0 }, { stormWindowMinutes: 0 }, { stormWindowMinutes: 1441 }, { stormMaxDuplicates: -1 }, { senderRateLimitPerMinute: 1.5 }]) {
      const r = settingsInputSchema.safeParse(bad);
      expect(r.success, JSON.stringify(bad)).toBe(false);
      expect(r.error!.issues[0]!.path[0]).toBe(Object.keys(bad)[0]);
    }
  });
});
