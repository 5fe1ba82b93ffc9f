import { isLocalAddress } from '../common/local-domains.js';

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

/** What comes before the last @ (the whole address when there is none). */
const localPart = (address: string): string => {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : address.slice(0, at);
};

/** The alias key of a local address: its local part, lower case. */
export const localName = (address: string): string => localPart(address).toLowerCase();

export interface RecipientResolution {
  /** Where the message goes, each once (case-insensitively); unresolved local names stay as given. */
  recipients: string[];
  /** Rewritten address → the original(s) it stands for (", " joined); null when nothing was rewritten. */
  originals: Record<string, string> | null;
  /** Local names with no alias and no admin address: the message waits until there is one. */
  unresolved: string[];
}

/** The addresses an alias stands for (its own entries only: a name such as `constructor` is no alias unless set). */
function aliasTargets(aliases: LocalMailPolicy['aliases'], name: string): readonly string[] | undefined {
  return Object.hasOwn(aliases, name) ? aliases[name] : undefined;
}

/**
 * Rewrites local recipients: their alias, else the admin address. An address that is both
 * addressed directly and an alias's target is sent once, and its originals name both.
 */
export function resolveRecipients(recipients: readonly string[], p: LocalMailPolicy): RecipientResolution {
  const out = new Map<string, { address: string; originals: string[] }>();
  const unresolved: string[] = [];
  const add = (address: string, original: string) => {
    const key = address.toLowerCase();
    const entry = out.get(key) ?? { address, originals: [] };
    if (!entry.originals.includes(original)) entry.originals.push(original);
    out.set(key, entry);
  };
  for (const r of recipients) {
    if (!isLocalAddress(r, p.localDomains)) {
      add(r, r);
      continue;
    }
    const targets = aliasTargets(p.aliases, localName(r)) ?? (p.adminAddress ? [p.adminAddress] : []);
    if (targets.length === 0) {
      unresolved.push(r);
      add(r, r);
    } else for (const t of targets) add(t, r);
  }
  const entries = [...out.values()];
  // An address only addressed as itself was not rewritten.
  const rewritten = entries.filter((e) => e.originals.length > 1 || e.originals[0] !== e.address);
  return {
    recipients: entries.map((e) => e.address),
    originals: rewritten.length ? Object.fromEntries(rewritten.map((e) => [e.address, e.originals.join(', ')])) : null,
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
  return `${localPart(sender)}@${p.hostname.includes('.') ? p.hostname.toLowerCase() : 'localhost'}`;
}

/** Why a message for local names waits, as the queue shows it. */
export function localHoldText(unresolved: readonly string[]): string {
  return `waiting for an admin address: mail for ${unresolved.join(', ')} has nowhere to go (set an admin address or an alias in Edit Settings)`;
}
