import os from 'node:os';
import { isChannelRecipient } from './channel-recipient.js';

// The domains that mean this machine: intake rewrites mail to them (intake/local-mail.ts), and
// the settings' admin address and alias targets must lead elsewhere.

/** localhost and each machine name, with and without its domain; the loopback address literals. */
export function localDomainsOf(names: readonly string[]): Set<string> {
  const out = new Set(['localhost', 'localhost.localdomain', '[127.0.0.1]', '[ipv6:::1]']);
  for (const name of names) {
    const n = name.trim().toLowerCase().replace(/\.$/, '');
    if (!n) continue;
    out.add(n);
    out.add(n.split('.')[0]!);
  }
  return out;
}

/** An address without a domain, or at localhost or this machine. A notification channel (`channel:<id>`, added by routing rules) is none. */
export function isLocalAddress(address: string, localDomains: ReadonlySet<string>): boolean {
  const at = address.lastIndexOf('@');
  if (at === -1) return !isChannelRecipient(address);
  return localDomains.has(address.slice(at + 1).toLowerCase().replace(/\.$/, ''));
}

let machine: string | undefined;
/** The machine's own name (os.hostname(), read once). */
const machineName = (): string => (machine ??= os.hostname());

/** The domains of this machine with `hostname` (the EHLO name) as one of its names. */
export const localDomainsWith = (hostname: string): Set<string> => localDomainsOf([hostname, machineName()]);
