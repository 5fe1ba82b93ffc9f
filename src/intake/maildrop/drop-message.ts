/**
 * What a maildrop file asks for, as a submission: the envelope from the command line (and with
 * -t from the headers), Bcc removed, the message cut at a lone dot unless -i. Pure; intake then
 * rewrites local names (local-mail.ts) and normalises the message like any other.
 */
import Headers from '@zone-eu/mailsplit/lib/headers.js';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { isAddressOrLocalName } from '../../common/address.js';
import { splitHeaders } from '../../common/rfc5322.js';
import type { MaildropFile } from './maildrop-file.js';

export interface DropMessage {
  from: string;
  to: string[];
  /** Recipients that are no address at all: logged as refused, the others still get the message. */
  refused: string[];
  /** -F: the display name of a From header intake adds when the message has none. */
  fullName?: string;
  raw: Buffer;
}

export class DropRefused extends Error {}

/** The message as written: without -i, a line holding a single dot ends it (sendmail's rule). */
export function cutAtDot(input: Buffer, ignoreDots: boolean): Buffer {
  if (ignoreDots) return input;
  const m = /(^|\n)\.\r?(\n|$)/.exec(input.toString('latin1'));
  return m ? input.subarray(0, m.index + m[1]!.length) : input;
}

/** Leading mbox "From " lines (`From root  Thu Dec  4 17:00:00 2026`), which Postfix's sendmail drops too. */
export function withoutFromLines(message: Buffer): Buffer {
  let pos = 0;
  while (message.toString('latin1', pos, pos + 5) === 'From ') {
    const lf = message.indexOf(0x0a, pos);
    if (lf === -1) return Buffer.alloc(0);
    pos = lf + 1;
  }
  return message.subarray(pos);
}

/**
 * Addresses from header values or arguments ("a@b, Name <c@d>", groups, bare local names),
 * flattened. With `unnamed`, what names no address at all (a display name alone, `john smith`)
 * is handed to it rather than dropped.
 */
export function addressesOf(values: string[], unnamed?: (text: string) => void): string[] {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && a.group) walk(a.group);
      else if ('address' in a && a.address) out.push(a.address);
      else if ('name' in a && a.name) unnamed?.(a.name);
    }
  };
  for (const v of values) {
    // addressparser reads a bare local name ("root", as cron writes To: root) as a display name
    // and merges it with the next address: take bare names out first, keep the rest together.
    const pieces = splitTopLevel(v);
    const bare = (p: string) => /^[^\s<>@",;:()]+$/.test(p.trim());
    for (const p of pieces) if (bare(p)) out.push(p.trim());
    const rest = pieces.filter((p) => !bare(p) && p.trim() !== '').join(',');
    if (rest) walk(addressparser(rest));
  }
  return out;
}

/** Splits an address list at commas outside quotes, angle brackets and comments. */
function splitTopLevel(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) current += c + value[++i];
      else {
        if (c === '"') quoted = false;
        current += c;
      }
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle++;
    else if (c === '>') angle = Math.max(0, angle - 1);
    else if (c === '(') comment++;
    else if (c === ')') comment = Math.max(0, comment - 1);
    else if (c === ',' && angle === 0 && comment === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

const unbracket = (address: string): string => address.trim().replace(/^<(.*)>$/, '$1').trim();

/**
 * The submission a maildrop file asks for. `owner` is the name of the user who wrote the file
 * (the default sender); `isLocalDomain` tells which dotless host names are this machine. Throws DropRefused when it cannot be sent to anyone, or names no
 * usable sender.
 */
export function dropMessage(file: MaildropFile, owner: string, isLocalDomain?: (domain: string) => boolean): DropMessage {
  const body = withoutFromLines(cutAtDot(file.message, file.ignoreDots));
  const { head, body: rest } = splitHeaders(body);
  const headers = new Headers(head);
  let changed = false;

  const unnamed: string[] = [];
  const given = addressesOf(file.recipients, (text) => unnamed.push(text)).map(unbracket);
  if (file.extractRecipients) {
    for (const name of ['to', 'cc', 'bcc']) given.push(...addressesOf(headers.getDecoded(name).map((h) => h.value)).map(unbracket));
    if (headers.hasHeader('bcc')) {
      headers.remove('bcc');
      changed = true;
    }
  }
  const seen = new Set<string>();
  const to: string[] = [];
  const refused: string[] = [...unnamed];
  for (const r of given) {
    if (r === '' || seen.has(r.toLowerCase())) continue;
    seen.add(r.toLowerCase());
    (isAddressOrLocalName(r, isLocalDomain) ? to : refused).push(r);
  }
  if (to.length === 0) {
    throw new DropRefused(
      refused.length
        ? `no valid recipient (${refused.join(', ')})`
        : file.extractRecipients
          ? 'no recipients: none given as arguments and none in the To, Cc or Bcc headers'
          : 'no recipients given',
    );
  }

  // -f may come as a mailbox (`-f 'Backup Job <backup@example.com>'`): its address, as Postfix takes it.
  const sender = file.sender === undefined ? owner : unbracket(/<([^<>]*)>\s*$/.exec(file.sender)?.[1] ?? file.sender);
  if (sender !== '' && !isAddressOrLocalName(sender, isLocalDomain)) throw new DropRefused(`not a valid sender address: ${sender}`);
  const raw = changed ? Buffer.concat([headers.build(), rest]) : body;
  return { from: sender, to, refused, fullName: file.fullName?.replace(/[\r\n]/g, ' '), raw };
}
