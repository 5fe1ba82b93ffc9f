/** Address and header helpers shared by intake, settings and delivery. Pure functions. */
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { isIP } from 'node:net';

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function isHostname(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.replace(/\.$/, '').split('.');
  return labels.every((l) => HOSTNAME_LABEL.test(l));
}

/** A relay host: a DNS name, an IPv4 address, or an IPv6 address (optionally in brackets). */
export function isHostOrAddress(value: string): boolean {
  if (isHostname(value)) return true;
  const v6 = value.replace(/^\[(.*)\]$/, '$1');
  return /^[0-9a-f:.]+$/i.test(v6) && isIP(v6) === 6;
}

const LOCAL_PART = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")$/i;

/**
 * An envelope address as SMTP carries it (RFC 5321 mailbox): local@domain, at most 254
 * characters, local part at most 64, domain a hostname or an address literal (delivered to that
 * address, see delivery/direct-transport.ts). UTF-8 local parts and domains (SMTPUTF8) are
 * accepted when they hold no control characters. What no transport can send is refused here, at
 * intake: nodemailer's SMTPConnection refuses an envelope address with CR, LF, < or > anywhere,
 * even in a quoted local part ("Invalid sender", no reply code: retried for the whole lifetime).
 */
export function isMailbox(address: string): boolean {
  if (address.length > 254 || /[<>]/.test(address) || /[\x00-\x20\x7f-\x9f]/.test(address.replace(/^".*"@/, 'x@'))) return false;
  const at = address.lastIndexOf('@');
  if (at < 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return false;
  const asciiLocal = /^[\x00-\x7f]*$/.test(local);
  if (asciiLocal ? !LOCAL_PART.test(local) : /[\s"\\@]/.test(local)) return false;
  if (/^\[.*\]$/.test(domain)) {
    // Direct delivery connects to the literal's address: it must be one.
    const literal = /^\[(?:([0-9.]+)|IPv6:([0-9a-f:.]+))\]$/i.exec(domain);
    return literal !== null && (literal[1] !== undefined ? isIP(literal[1]) === 4 : isIP(literal[2]!) === 6);
  }
  if (/^[\x00-\x7f]*$/.test(domain)) return isHostname(domain) && domain.includes('.') || domain.toLowerCase() === 'localhost';
  return domain.length <= 253 && !/[\s@\\]/.test(domain) && domain.includes('.');
}

/**
 * A full address, or a local one that intake rewrites (see intake/local-mail.ts): a bare name
 * (root), or a name at a host name without a dot that `isLocalDomain` says is this machine
 * (root@nas). A name at another such host (ops@nodot) is neither.
 */
export function isAddressOrLocalName(address: string, isLocalDomain: (domain: string) => boolean = () => false): boolean {
  if (isMailbox(address)) return true;
  const at = address.lastIndexOf('@');
  if (at !== -1 && !isLocalDomain(address.slice(at + 1).toLowerCase())) return false;
  return isMailbox(`${at === -1 ? address : address.slice(0, at)}@localhost`);
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Header values must never carry line breaks: a From name with CRLF could inject headers. */
export function hasLineBreak(value: string): boolean {
  return /[\r\n]/.test(value);
}

/** Formats "Name <address>" with the name quoted when it needs to be (RFC 5322 display name). */
export function formatMailbox(name: string, address: string): string {
  if (!name) return address;
  if (/^[\x20-\x7e]*$/.test(name)) {
    const atom = /^[a-z0-9!#$%&'*+/=?^_`{|}~ -]+$/i.test(name);
    return `${atom ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`} <${address}>`;
  }
  // RFC 2047 encoded word for non-ASCII names
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?= <${address}>`;
}

/**
 * The one mailbox of a From-like header value, or undefined when it holds none or several.
 * Also reads the forms addressparser takes for a display name: a bare local name (`root`) and
 * the old `address (Comment)` form, as cron writes them (`From: root (Cron Daemon)`).
 */
export function singleMailbox(value: string): { name: string; address: string } | undefined {
  const old = /^\s*([^\s<>()",;:@]+(?:@[^\s<>()",;:@]+)?)\s*(?:\(([^()]*)\))?\s*$/.exec(value);
  if (old) return { address: old[1]!, name: (old[2] ?? '').trim() };
  const list = addressparser(value);
  const only = list.length === 1 ? list[0] : undefined;
  if (!only || !('address' in only) || !only.address) return undefined;
  return { address: only.address, name: only.name ?? '' };
}
