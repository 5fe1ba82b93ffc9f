import { MAX_LINE_OCTETS as MAX_LINE } from '../common/message-data.js';

/**
 * What intake refuses in a message itself, whichever way it came (SMTP, API, maildrop): bytes
 * that would be relayed as they are and are not mail, and a message that is going round in
 * circles. Pure (normalizeMessage asks it, having cut the message once); 8-bit bytes and long
 * body lines stay accepted, as relays take them.
 */

/**
 * Postfix's hopcount_limit. Every Received header counts, not only ours, as in Postfix: a
 * message that has passed through 50 servers is looping somewhere, whoever the servers are, and
 * a loop through this Postroom (an alias, an address literal that names this host) adds ours.
 */
export const MAX_HOPS = 50;
const RECEIVED = /^received[ \t]*:/i;

/** A refusal as SMTP words it (554 and an enhanced status code); `text` also goes to the mail log. */
export interface Refusal {
  code: number;
  status: string;
  text: string;
}

/** Thrown by IntakeService.submit: the message is refused for good (554 / 400 / a refused maildrop file). */
export class MessageRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.text);
  }
}

/** Why a message (its header block and its body, as splitChunks cuts it) must be refused, or undefined. */
export function messageProblem(head: Buffer, body: Buffer[]): Refusal | undefined {
  // Neither 7bit nor 8bit data may hold a NUL (RFC 2045 §2.7-2.8, RFC 6152): relays refuse it or cut there.
  if (head.includes(0) || body.some((c) => c.includes(0))) return { code: 554, status: '5.6.0', text: 'message contains a NUL byte' };
  let hops = 0;
  for (let start = 0, line = 1; start < head.length; line++) {
    const lf = head.indexOf(0x0a, start);
    const end = lf === -1 ? head.length : lf;
    const length = end - start - (end > start && head[end - 1] === 0x0d ? 1 : 0);
    if (length > MAX_LINE) return { code: 554, status: '5.6.0', text: `header line ${line} is longer than ${MAX_LINE} characters` };
    if (RECEIVED.test(head.toString('latin1', start, Math.min(end, start + 16)))) hops++;
    start = end + 1;
  }
  if (hops > MAX_HOPS) return { code: 554, status: '5.4.6', text: `too many hops: ${hops} Received headers (at most ${MAX_HOPS}), the message is looping` };
  return undefined;
}
