import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import os from 'node:os';

/**
 * The name Postroom gives itself when no hostname is configured: in EHLO, in Message-IDs and
 * in notices. RFC 5321 §4.1.1.1 wants a fully qualified domain name, or an address literal
 * when the machine has none (§4.1.3); relays commonly refuse a bare single-label name
 * (Postfix: "504 5.5.2 <nas>: Helo command rejected: need fully-qualified hostname").
 */

/** Whether a name is a fully qualified domain name (not localhost, not a single label, not an address). */
export function isFullyQualified(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!n.includes('.') || isIP(n) || n.startsWith('[')) return false;
  if (n === 'localhost' || n.startsWith('localhost.') || n.endsWith('.localdomain')) return false;
  return /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(n);
}

/** The first non-loopback IPv4 address of the machine's interfaces, if any (else IPv6). */
export function primaryAddress(interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces()): { address: string; family: 4 | 6 } | undefined {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const v4 = all.find((i) => i.family === 'IPv4' && !i.internal);
  if (v4) return { address: v4.address, family: 4 };
  const v6 = all.find((i) => i.family === 'IPv6' && !i.internal && !i.address.toLowerCase().startsWith('fe80'));
  return v6 ? { address: v6.address, family: 6 } : undefined;
}

/** An address literal (RFC 5321 §4.1.3): [192.0.2.10], [IPv6:2001:db8::1]. */
export function addressLiteral(a: { address: string; family: 4 | 6 } | undefined): string {
  if (!a) return '[127.0.0.1]';
  return a.family === 4 ? `[${a.address}]` : `[IPv6:${a.address}]`;
}

/** The choice, given what the machine says: its hostname, names found for it by look-up, its address. */
export function chooseMailName(hostname: string, found: (string | undefined)[], address: { address: string; family: 4 | 6 } | undefined): string {
  for (const name of [hostname, ...found]) if (name && isFullyQualified(name)) return name.replace(/\.$/, '');
  return addressLiteral(address);
}

/** What a look-up found, once it has run (resolveMailName); until then the names the machine gives without one. */
let resolved: string | undefined;
let fallback: string | undefined;

/** The name to use now, without waiting: the looked-up one, or os.hostname() when qualified, or an address literal. */
export function defaultMailName(): string {
  return resolved ?? (fallback ??= chooseMailName(os.hostname(), [], primaryAddress()));
}

/** How long the look-up may take at start-up; past it, the name is chosen without it. */
const LOOKUP_MS = 2_000;

/**
 * Looks the machine's name up the way `hostname -f` does (its addresses, then the name of each
 * address: /etc/hosts first, then DNS), then the reverse name of its primary address; within
 * LOOKUP_MS whatever the resolver does (a look-up that does not end is left behind).
 */
export async function resolveMailName(timeoutMs = LOOKUP_MS): Promise<string> {
  if (resolved) return resolved;
  const hostname = os.hostname();
  const address = primaryAddress();
  if (isFullyQualified(hostname)) return (resolved = chooseMailName(hostname, [], address));
  const nameOf = (ip: string) => dns.lookupService(ip, 0).then((r) => r.hostname, () => undefined);
  const lookup = async (): Promise<string | undefined> => {
    const own = await dns.lookup(hostname, { all: true }).catch(() => []);
    for (const a of own) {
      const name = await nameOf(a.address);
      if (name && isFullyQualified(name)) return name;
    }
    return address ? nameOf(address.address) : undefined;
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs).unref()));
  const found = await Promise.race([lookup().catch(() => undefined), late]);
  clearTimeout(timer);
  return (resolved = chooseMailName(hostname, [found], address));
}

/** A warning when a name is not fully qualified (an address literal or a single label), else undefined. */
export function mailNameWarning(name: string, configured: boolean): string | undefined {
  if (isFullyQualified(name)) return undefined;
  if (/^\[.*\]$/.test(name)) {
    return `Postroom introduces itself (EHLO) as the address literal ${name}: this machine has no fully qualified name. Some relays refuse that; set a hostname in the settings.`;
  }
  return `The EHLO name "${name}"${configured ? ' (the hostname setting)' : ''} is not a fully qualified domain name: relays may refuse it ("504 5.5.2 Helo command rejected"). Set a hostname such as mail.example.com in the settings.`;
}
