import { randomBytes } from 'node:crypto';
import { MessageParts, hasEightBit } from '../common/message-data.js';

/**
 * A storm digest as MIME (RFC 2046 §5.1.5): `multipart/digest`, a text/plain summary first, then
 * each held message as a `message/rfc822` part holding its stored bytes exactly (pure; no I/O).
 */

/** Room kept under the size limit for what the relays add on the way (Received, signatures). */
const HEADROOM_BYTES = 64 * 1024;

/** What a digest may weigh: the size limit, less headroom (an eighth of a small limit). */
export function digestRoom(maxMessageBytes: number): number {
  return maxMessageBytes - Math.min(HEADROOM_BYTES, Math.floor(maxMessageBytes / 8));
}

const boundary = () => `postroom-digest-${randomBytes(12).toString('hex')}`;

/** The delimiter and part headers before a carried message (every boundary has the same length). */
function partHead(b: string, eightBit: boolean): string {
  return `\r\n--${b}\r\nContent-Type: message/rfc822\r\n${eightBit ? 'Content-Transfer-Encoding: 8bit\r\n' : ''}\r\n`;
}

const PART_HEAD_BYTES = Buffer.byteLength(partHead(boundary(), true));

/** The bytes a carried message adds to a digest, at most. */
export function partBytes(size: number): number {
  return PART_HEAD_BYTES + size;
}

/**
 * At most this many messages in one digest. Each carried message is two or more MIME nodes, and
 * common parsers refuse a message of more than 1,000 (mailparser's mailsplit does): a storm of
 * 10,000 alerts becomes 40 digests a reader's mail client can open, not one it cannot.
 */
export const MAX_DIGEST_MESSAGES = 250;

/**
 * The messages (oldest first) in runs that each fit `room` bytes besides a digest's own
 * `fixedBytes` and hold at most `maxMessages`, in order; a message that does not fit even alone
 * is set apart.
 */
export function planDigests<T extends { size: number }>(messages: T[], room: number, fixedBytes: number, maxMessages = MAX_DIGEST_MESSAGES): { runs: T[][]; tooLarge: T[] } {
  const runs: T[][] = [];
  const tooLarge: T[] = [];
  const space = room - fixedBytes;
  let run: T[] = [];
  let used = 0;
  for (const m of messages) {
    const cost = partBytes(m.size);
    if (cost > space) {
      tooLarge.push(m);
      continue;
    }
    if (used + cost > space || run.length === maxMessages) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(m);
    used += cost;
  }
  if (run.length) runs.push(run);
  return { runs, tooLarge };
}

/** Header fields of a header block, each with its folded lines. */
function fields(head: string): string[] {
  const out: string[] = [];
  for (const line of head.split('\r\n')) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1] += `\r\n${line}`;
    else if (line) out.push(line);
  }
  return out;
}

/**
 * The digest: `summary` is a composed text/plain message (CRLF) whose header fields become the
 * digest's, its Content-* fields and body the first part; each of `messages` follows as it is.
 * The boundary is one no carried message contains.
 */
export function composeDigest(summary: Buffer, messages: Buffer[]): MessageParts {
  const text = summary.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = fields(split < 0 ? text : text.slice(0, split));
  const body = split < 0 ? '' : text.slice(split + 4);
  let b = boundary();
  while (messages.some((m) => m.includes(`--${b}`))) b = boundary();
  const eightBit = messages.map(hasEightBit);
  const outer = head.filter((f) => !/^content-/i.test(f));
  const inner = head.filter((f) => /^content-/i.test(f));
  outer.push(`Content-Type: multipart/digest; boundary="${b}"`);
  // A multipart holding an 8bit part is labelled 8bit itself (RFC 2045 §6.4).
  if (eightBit.some(Boolean)) outer.push('Content-Transfer-Encoding: 8bit');
  const first = `${outer.join('\r\n')}\r\n\r\nThis is a MIME digest of held messages.\r\n--${b}\r\n${inner.join('\r\n')}\r\n\r\n${body}`;
  const parts: Buffer[] = [Buffer.from(first, 'utf8')];
  messages.forEach((m, i) => parts.push(Buffer.from(partHead(b, eightBit[i]!), 'latin1'), m));
  parts.push(Buffer.from(`\r\n--${b}--\r\n`, 'latin1'));
  return new MessageParts(parts);
}

/** What a digest carrying no message weighs: its header, summary and closing delimiter. */
export function fixedBytes(summary: Buffer): number {
  return composeDigest(summary, []).length + Buffer.byteLength('Content-Transfer-Encoding: 8bit\r\n');
}
