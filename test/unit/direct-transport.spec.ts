import { describe, expect, it } from 'vitest';
import { MxResolver, mailHosts } from '../../src/delivery/direct-transport.js';

type MxRecord = { exchange: string; priority: number };

/** A resolver that answers from a table and fails with the given DNS code for anything else. */
function resolver(records: Record<string, MxRecord[]>, failWith?: string): MxResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolveMx(domain) {
      asked.push(domain);
      const found = records[domain];
      if (found) return found.map((r) => ({ ...r }));
      throw Object.assign(new Error(`queryMx ${failWith} ${domain}`), { code: failWith });
    },
  };
}

describe('mailHosts', () => {
  it('returns the MX hosts in order of preference, lowest first', async () => {
    const r = resolver({
      'example.net': [
        { exchange: 'mx3.example.net', priority: 30 },
        { exchange: 'mx1.example.net', priority: 10 },
        { exchange: 'mx2.example.net', priority: 20 },
      ],
    });
    expect(await mailHosts(r, 'example.net')).toEqual({ hosts: ['mx1.example.net', 'mx2.example.net', 'mx3.example.net'] });
    expect(r.asked).toEqual(['example.net']);
  });

  it('returns a single MX host', async () => {
    expect(await mailHosts(resolver({ 'example.net': [{ exchange: 'mail.example.net', priority: 0 }] }), 'example.net')).toEqual({ hosts: ['mail.example.net'] });
  });

  it('falls back to the domain itself when the MX answer is empty', async () => {
    expect(await mailHosts(resolver({ 'example.net': [] }), 'example.net')).toEqual({ hosts: ['example.net'] });
  });

  it('falls back to the domain itself when the domain has no MX records (ENODATA)', async () => {
    expect(await mailHosts(resolver({}, 'ENODATA'), 'example.net')).toEqual({ hosts: ['example.net'] });
  });

  it('refuses for good with 550 when the domain does not exist (ENOTFOUND)', async () => {
    expect(await mailHosts(resolver({}, 'ENOTFOUND'), 'nowhere.example')).toEqual({ error: { code: 550, reply: '550 5.1.2 domain nowhere.example not found in DNS' } });
  });

  it('refuses for good with 556 when the domain publishes a null MX', async () => {
    const expected = { error: { code: 556, reply: '556 5.1.10 example.net does not accept mail (null MX)' } };
    expect(await mailHosts(resolver({ 'example.net': [{ exchange: '', priority: 0 }] }), 'example.net')).toEqual(expected);
    expect(await mailHosts(resolver({ 'example.net': [{ exchange: '.', priority: 0 }] }), 'example.net')).toEqual(expected);
  });

  it.each([
    ['[192.0.2.1]', '192.0.2.1'],
    ['[ipv6:2001:db8::25]', '2001:db8::25'],
  ])('takes an address literal %j as the one host to try, without asking DNS', async (domain, host) => {
    const r = resolver({});
    expect(await mailHosts(r, domain)).toEqual({ hosts: [host] });
    expect(r.asked).toEqual([]);
  });

  it('gives a temporary failure with a null code when the DNS server fails', async () => {
    expect(await mailHosts(resolver({}, 'ESERVFAIL'), 'example.net')).toEqual({ error: { code: null, reply: 'DNS lookup of MX for example.net failed: ESERVFAIL' } });
    expect(await mailHosts(resolver({}, 'ETIMEOUT'), 'example.net')).toEqual({ error: { code: null, reply: 'DNS lookup of MX for example.net failed: ETIMEOUT' } });
  });

  it('gives a temporary failure with the error message when the error has no code', async () => {
    const r: MxResolver = {
      resolveMx: async () => {
        throw new Error('resolver exploded');
      },
    };
    expect(await mailHosts(r, 'example.net')).toEqual({ error: { code: null, reply: 'DNS lookup of MX for example.net failed: resolver exploded' } });
  });
});
