/**
 * Mail for local names, as an appliance's cron, smartd, mdadm and zed send it: `root`,
 * `postmaster`, a bare user name, `x@localhost`, `x@<this host>`. Such an address has no mailbox
 * anywhere a relay can reach, so intake rewrites it: an alias from the settings (name → one or
 * more addresses), else the admin address (as nullmailer's adminaddr does). Pure functions.
 */
export interface LocalMailPolicy {
  /** Domains that mean this machine, lower case: localhost and the machine's names. */
  localDomains: ReadonlySet<string>;
  aliases: Readonly<Record<string, readonly string[]>>;
  adminAddress: string;
  fromAddress: string;
  /** The EHLO name, to qualify a local sender when there is no From address. */
  hostname: string;
}

/** The hold reason of a message for a local name that has nowhere to go (no alias, no admin address). */
export const LOCAL_HOLD = 'local';

/** localhost and each machine name, with and without its domain. */
export function localDomainsOf(names: readonly string[]): Set<string> {
  const out = new Set(['localhost', 'localhost.localdomain']);
  for (const name of names) {
    const n = name.trim().toLowerCase().replace(/\.$/, '');
    if (!n) continue;
    out.add(n);
    out.add(n.split('.')[0]!);
  }
  return out;
}

/** An address without a domain, or at localhost or this machine. */
export function isLocalAddress(address: string, localDomains: ReadonlySet<string>): boolean {
  const at = address.lastIndexOf('@');
  return at === -1 || localDomains.has(address.slice(at + 1).toLowerCase().replace(/\.$/, ''));
}

/** The alias key of a local address: its local part, lower case. */
export function localName(address: string): string {
  const at = address.lastIndexOf('@');
  return (at === -1 ? address : address.slice(0, at)).toLowerCase();
}

export interface RecipientResolution {
  /** Where the message goes, each once (case-insensitively); unresolved local names stay as given. */
  recipients: string[];
  /** Rewritten address → the original(s) it stands for (", " joined); null when nothing was rewritten. */
  originals: Record<string, string> | null;
  /** Local names with no alias and no admin address: the message waits until there is one. */
  unresolved: string[];
}

/** Rewrites local recipients: their alias, else the admin address. */
export function resolveRecipients(recipients: readonly string[], p: LocalMailPolicy): RecipientResolution {
  const out: string[] = [];
  const seen = new Set<string>();
  const originals = new Map<string, string[]>();
  const unresolved: string[] = [];
  const add = (address: string, original?: string) => {
    const key = address.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(address);
    }
    if (original === undefined) return;
    const spelled = out.find((a) => a.toLowerCase() === key)!;
    const list = originals.get(spelled) ?? [];
    if (!list.includes(original)) list.push(original);
    originals.set(spelled, list);
  };
  for (const r of recipients) {
    if (!isLocalAddress(r, p.localDomains)) {
      add(r);
      continue;
    }
    const targets = p.aliases[localName(r)] ?? (p.adminAddress ? [p.adminAddress] : []);
    if (targets.length === 0) {
      unresolved.push(r);
      add(r);
    } else for (const t of targets) add(t, r);
  }
  return {
    recipients: out,
    originals: originals.size ? Object.fromEntries([...originals].map(([k, v]) => [k, v.join(', ')])) : null,
    unresolved,
  };
}

/**
 * The envelope sender a relay will accept: a local one (`root`, `root@localhost`) becomes the
 * From address when one is set, else it is qualified with this host's name (or localhost when
 * the name has no domain). The null sender stays null.
 */
export function qualifySender(sender: string, p: LocalMailPolicy): string {
  if (sender === '' || !isLocalAddress(sender, p.localDomains)) return sender;
  if (p.fromAddress) return p.fromAddress;
  if (sender.includes('@')) return sender;
  return `${sender}@${p.hostname.includes('.') ? p.hostname.toLowerCase() : 'localhost'}`;
}

/** Why a message for local names waits, as the queue shows it. */
export function localHoldText(unresolved: readonly string[]): string {
  return `waiting for an admin address: mail for ${unresolved.join(', ')} has nowhere to go (set an admin address or an alias in Edit Settings)`;
}
