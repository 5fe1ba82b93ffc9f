import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/dashboard/login-throttle.js';

const limits = { perAddress: { max: 5, windowMs: 15 * 60_000 }, global: { max: 10, windowMs: 10_000 } };

describe('LoginThrottle', () => {
  it('counts an attempt when it is admitted, so that a sixth one from the address waits even before any answer', () => {
    const throttle = new LoginThrottle(limits);
    const waits = Array.from({ length: 8 }, () => throttle.admit('192.0.2.1', 1_000));
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(waits.slice(5).every((w) => w === 15 * 60_000)).toBe(true);
  });

  it('admits the address again once its oldest attempt leaves the window', () => {
    const throttle = new LoginThrottle(limits);
    for (let i = 0; i < 5; i++) expect(throttle.admit('192.0.2.1', i * 60_000)).toBe(0);
    expect(throttle.admit('192.0.2.1', 15 * 60_000 - 1)).toBe(1);
    expect(throttle.admit('192.0.2.1', 15 * 60_000)).toBe(0);
  });

  it('forgets an address’s attempts when its password was right', () => {
    const throttle = new LoginThrottle(limits);
    for (let i = 0; i < 4; i++) throttle.admit('192.0.2.1', 0);
    throttle.succeeded('192.0.2.1');
    for (let i = 0; i < 5; i++) expect(throttle.admit('192.0.2.1', 20_000 + i * 10_000)).toBe(0);
  });

  it('admits at most the global number of attempts in its window from all addresses together', () => {
    const throttle = new LoginThrottle(limits);
    const waits = Array.from({ length: 14 }, (_, i) => throttle.admit(`198.51.100.${i}`, 5_000 + i));
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits.slice(10)).toEqual([9_990, 9_989, 9_988, 9_987]);
    // A right password does not give the global budget back: it counts verifications.
    throttle.succeeded('198.51.100.0');
    expect(throttle.admit('203.0.113.1', 5_100)).toBeGreaterThan(0);
    expect(throttle.admit('203.0.113.1', 15_000)).toBe(0);
  });

  it('does not count a refused attempt against the address', () => {
    const throttle = new LoginThrottle(limits);
    for (let i = 0; i < 10; i++) throttle.admit(`198.51.100.${i}`, 0);
    for (let i = 0; i < 20; i++) expect(throttle.admit('192.0.2.1', 1)).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(throttle.admit('192.0.2.1', 10_000 + i)).toBe(0);
  });

  it('counts every loopback address as one: a local process cannot take a fresh address for each guess', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < 5; i++) expect(throttle.admit(`127.0.0.${i + 1}`, 0)).toBe(0);
    for (const other of ['127.0.0.9', '127.1.2.3', '::1', '::ffff:127.0.0.5']) expect(throttle.admit(other, 1_000), other).toBeGreaterThan(0);
    expect(throttle.admit('192.0.2.1', 1_000)).toBe(0);
    throttle.succeeded('127.0.0.7');
    expect(throttle.admit('127.0.0.1', 2_000)).toBe(0);
  });
});
