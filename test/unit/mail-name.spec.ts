import { describe, expect, it } from 'vitest';
import { addressLiteral, chooseMailName, defaultMailName, isFullyQualified, mailNameWarning, primaryAddress, resolveMailName } from '../../src/config/mail-name.js';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;

describe('the EHLO name without a hostname setting', () => {
  it('is fully qualified only with a dot, not localhost, not an address', () => {
    expect(isFullyQualified('nas.example.com')).toBe(true);
    expect(isFullyQualified('nas.example.com.')).toBe(true);
    expect(isFullyQualified('nas')).toBe(false);
    expect(isFullyQualified('localhost.localdomain')).toBe(false);
    expect(isFullyQualified('192.0.2.10')).toBe(false);
    expect(isFullyQualified('[192.0.2.10]')).toBe(false);
  });

  it('the machine name when qualified, else a name found for it, else the primary IPv4 as an address literal', () => {
    const v4 = { address: '192.0.2.10', family: 4 as const };
    expect(chooseMailName('nas.example.com', [], v4)).toBe('nas.example.com');
    expect(chooseMailName('nas', ['nas.lan.example.org'], v4)).toBe('nas.lan.example.org');
    expect(chooseMailName('nas', [undefined, 'localhost'], v4)).toBe('[192.0.2.10]');
    expect(addressLiteral({ address: '2001:db8::1', family: 6 })).toBe('[IPv6:2001:db8::1]');
    expect(primaryAddress({ lo: [iface('127.0.0.1', 'IPv4', true)], eth0: [iface('fe80::1', 'IPv6'), iface('192.0.2.10', 'IPv4')] })).toEqual(v4);
  });

  it('on this machine: never a bare single label, and the look-up is bounded', async () => {
    const started = Date.now();
    const name = await resolveMailName(500);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isFullyQualified(name) || /^\[(IPv6:)?[0-9a-f.:]+\]$/i.test(name)).toBe(true);
    expect(defaultMailName()).toBe(name);
  });

  it('warns about a name that is not fully qualified', () => {
    expect(mailNameWarning('nas.example.com', false)).toBeUndefined();
    expect(mailNameWarning('[192.0.2.10]', false)).toMatch(/address literal \[192\.0\.2\.10\]/);
    expect(mailNameWarning('nas', true)).toMatch(/"nas" \(the hostname setting\) is not a fully qualified domain name/);
  });
});
