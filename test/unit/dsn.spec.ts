import { describe, expect, it } from 'vitest';
import { diagnosticCode, dsnStatus, remoteMtaOf } from '../../src/delivery/dsn.js';

describe('DSN fields', () => {
  it('takes the status from the enhanced code of the reply, in the class of the notice', () => {
    expect(dsnStatus('550 5.1.1 <a@b>: User unknown', 'failed')).toBe('5.1.1');
    expect(dsnStatus('550-5.7.26 Unauthenticated email 550-5.7.26 more', 'failed')).toBe('5.7.26'); // a multi-line reply
    expect(dsnStatus('550 relay 127.0.0.1 says no', 'failed')).toBe('5.0.0'); // not an IP address
    expect(dsnStatus('554 Transaction failed', 'failed')).toBe('5.0.0');
    expect(dsnStatus('451 4.2.1 Mailbox busy', 'failed', true)).toBe('5.4.7');
    expect(dsnStatus('451 4.2.1 Mailbox busy', 'delayed')).toBe('4.2.1');
    expect(dsnStatus('connect ECONNREFUSED 127.0.0.1:25', 'delayed')).toBe('4.0.0');
  });

  it('writes Diagnostic-Code as smtp; <reply> when there is one, and names Remote-MTA', () => {
    expect(diagnosticCode('550 5.1.1 unknown')).toBe('smtp; 550 5.1.1 unknown');
    expect(diagnosticCode('mx.example.org: 421 4.7.0 try later')).toBe('smtp; 421 4.7.0 try later');
    expect(diagnosticCode('DNS lookup of MX for x failed: ESERVFAIL')).toBe('X-Postroom; DNS lookup of MX for x failed: ESERVFAIL');
    expect(remoteMtaOf('relay.example.org:587')).toBe('relay.example.org');
    expect(remoteMtaOf('mx.example.org[192.0.2.1]:25')).toBe('mx.example.org');
    expect(remoteMtaOf('[2001:db8::1]:25')).toBe('2001:db8::1');
    expect(remoteMtaOf('a.example:25, b.example:25')).toBeUndefined();
    expect(remoteMtaOf(null)).toBeUndefined();
  });
});
