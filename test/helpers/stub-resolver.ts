import type { MxResolver } from '../../src/delivery/direct-transport.js';

export type Mx = { exchange: string; priority: number };

/**
 * A resolver that knows only what the test gives it and records what was asked: MX records and
 * addresses per name, or an error code (e.g. 'ETIMEOUT') to fail with. No DNS is ever asked.
 */
export function stubResolver(mx: Record<string, Mx[] | string>, hosts: Record<string, string[] | string>): MxResolver & { asked: string[] } {
  const asked: string[] = [];
  const fail = (code: string, what: string) => Object.assign(new Error(`${what} ${code}`), { code });
  return {
    asked,
    async resolveMx(domain) {
      asked.push(`MX ${domain}`);
      const r = mx[domain];
      if (r === undefined) throw fail('ENODATA', `queryMx ${domain}`);
      if (typeof r === 'string') throw fail(r, `queryMx ${domain}`);
      return r.map((x) => ({ ...x }));
    },
    async lookup(host) {
      asked.push(`A ${host}`);
      const r = hosts[host];
      if (r === undefined) throw fail('ENOTFOUND', `getaddrinfo ${host}`);
      if (typeof r === 'string') throw fail(r, `getaddrinfo ${host}`);
      return r;
    },
  };
}
