import { describe, expect, it } from 'vitest';
import { relayConnectionOptions } from '../../src/delivery/transport-options.js';

const options = (host: string) => relayConnectionOptions({ host, port: 465, security: 'tls', tlsVerify: true, heloName: 'nas.example.com', timeoutSeconds: 10, poolSize: 2 });

describe('relayConnectionOptions', () => {
  it('names a host for TLS (SNI, and the name the certificate must show)', () => {
    expect(options('smtp.example.com')).toMatchObject({ host: 'smtp.example.com', tls: { servername: 'smtp.example.com', rejectUnauthorized: true } });
  });

  it('connects to an address without its brackets and sends no SNI for it (RFC 6066 §3): the certificate is checked against the address', () => {
    for (const [given, host] of [['[::1]', '::1'], ['[2001:db8::25]', '2001:db8::25'], ['192.0.2.25', '192.0.2.25']]) {
      const o = options(given!);
      expect(o.host, given).toBe(host);
      expect(o.tls, given).not.toHaveProperty('servername');
    }
  });
});
