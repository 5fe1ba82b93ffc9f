import Headers from '@zone-eu/mailsplit/lib/headers.js';
import { type Severity, severityOf } from '../common/severity.js';
import libmime from 'libmime';
import { randomUUID } from 'node:crypto';
import { formatMailbox, singleMailbox } from '../common/address.js';
import { MessageData, MessageParts, STREAMED_BODY_BYTES } from '../common/message-data.js';
import { rfc5322Date, splitHeaders } from '../common/rfc5322.js';
import { Refusal, messageProblem } from './message-hygiene.js';

export interface NormalizeInput {
  /** The message as it came: one buffer, or the chunks of the DATA stream (never joined as a whole). */
  raw: Buffer | Buffer[];
  queueId: string;
  envelopeFrom: string;
  recipients: string[];
  now: Date;
  /** Our EHLO name, used in Received and in a Message-ID we add. */
  hostname: string;
  fromName: string;
  fromAddress: string;
  /** Always rewrite the envelope sender and From (keeping the original From as Reply-To). */
  rewriteFrom: boolean;
  /** sendmail -F: the display name of the From header added when the message has none. */
  fullName?: string;
  /** Whether an address is local (root, x@localhost): a local From is rewritten to the From address. */
  isLocal?: (address: string) => boolean;
  client: { address: string | null; heloName?: string; reverseName?: string; protocol: string; uid?: number };
}

export interface NormalizedMessage {
  data: MessageData;
  sender: string;
  messageId: string;
  subject: string;
  /** From X-Postroom-Severity, X-Priority, Importance or Priority (severity.ts). */
  severity: Severity;
  /** Set when intake must refuse the message (message-hygiene.ts): nothing of it is stored then. */
  problem?: Refusal;
}

/**
 * The header block and the body of a message in chunks (one, or the DATA stream's): only the
 * chunks up to the end of the headers are joined (usually just the first); the body stays in them.
 */
export function splitChunks(chunks: Buffer[]): { head: Buffer; body: Buffer[] } {
  let k = 1;
  let prefix = chunks[0] ?? Buffer.alloc(0);
  for (;;) {
    const whole = k >= chunks.length;
    const { head, body } = splitHeaders(prefix, whole);
    // Done once the header block has ended (or there is none), or the message has.
    if (head.length < prefix.length || whole) return { head, body: [body, ...chunks.slice(k)] };
    prefix = Buffer.concat([prefix, chunks[k++]!]);
  }
}

/** A field name as RFC 5322 writes it (printable ASCII but the colon), blanks allowed before the colon. */
const WELL_FORMED_FIELD = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * Whether the block has the header `key` (lower case) under a well-formed name. mailsplit
 * finds a header by its name trimmed of any whitespace, so "Date\v: …" would count as a Date
 * that no mail reader sees: we then add our own.
 */
function hasField(headers: Headers, key: string): boolean {
  return headers.getList().some((h) => h.key === key && WELL_FORMED_FIELD.test(h.line));
}

function receivedHeader(i: NormalizeInput): string {
  const c = i.client;
  const forPart = i.recipients.length === 1 ? ` for <${i.recipients[0]}>` : '';
  // A local submission (the sendmail drop-in) names the user, as Postfix's pickup does.
  if (c.uid !== undefined) return `by ${i.hostname} (Postroom, from userid ${c.uid}) id ${i.queueId}${forPart}; ${rfc5322Date(i.now)}`;
  const reverse = c.reverseName && !c.reverseName.startsWith('[') ? `${c.reverseName} ` : '';
  const from = c.address ? `from ${c.heloName || 'unknown'} (${reverse}[${c.address}])` : 'from localhost (api)';
  return `${from} by ${i.hostname} (Postroom) with ${c.protocol} id ${i.queueId}${forPart}; ${rfc5322Date(i.now)}`;
}

/**
 * Prepares a message for the queue: a Received header on top; Message-ID, Date and From added
 * where missing; optionally the sender rewritten. The body is kept byte for byte. Says too
 * whether intake must refuse it, from the same cut of the message.
 */
export function normalizeMessage(i: NormalizeInput): NormalizedMessage {
  const { head, body } = splitChunks(Array.isArray(i.raw) ? i.raw : [i.raw]);
  const problem = messageProblem(head, body);
  const headers = new Headers(head);
  headers.add('Received', receivedHeader(i), 0);

  let messageId = hasField(headers, 'message-id') ? headers.getFirst('message-id').trim() : '';
  if (!messageId) {
    messageId = `<${randomUUID()}@${i.hostname}>`;
    headers.add('Message-ID', messageId, Number.MAX_SAFE_INTEGER);
  }
  if (!hasField(headers, 'date')) headers.add('Date', rfc5322Date(i.now), Number.MAX_SAFE_INTEGER);

  const configuredFrom = i.fromAddress ? formatMailbox(i.fromName, i.fromAddress) : '';
  let sender = i.envelopeFrom;
  if (!hasField(headers, 'from')) {
    const address = i.fromAddress || i.envelopeFrom;
    const named = i.fullName !== undefined && address ? formatMailbox(i.fullName, address) : '';
    const fallback = named || configuredFrom || (i.envelopeFrom ? i.envelopeFrom : `MAILER-DAEMON@${i.hostname}`);
    headers.add('From', fallback, Number.MAX_SAFE_INTEGER);
  } else if (i.rewriteFrom && configuredFrom) {
    const original = headers.getFirst('from');
    if (!hasField(headers, 'reply-to') && original) headers.add('Reply-To', original, Number.MAX_SAFE_INTEGER);
    headers.update('From', configuredFrom);
  } else if (configuredFrom && i.isLocal) {
    // `From: root (Cron Daemon)` names no mailbox a relay accepts, nor one a reply could reach.
    const from = singleMailbox(safeDecode(headers.getFirst('from')));
    if (from && i.isLocal(from.address)) headers.update('From', formatMailbox(from.name || i.fromName, i.fromAddress));
  }
  if (i.rewriteFrom && i.fromAddress && sender !== '') sender = i.fromAddress;

  const subject = safeDecode(headers.getFirst('subject'));
  const severity = severityOf({
    postroomSeverity: fieldValue(headers, 'x-postroom-severity'),
    xPriority: fieldValue(headers, 'x-priority'),
    importance: fieldValue(headers, 'importance'),
    priority: fieldValue(headers, 'priority'),
  });
  // The one copy of the message: the new header block and the body bytes as they came, joined
  // only when small; a big one stays in its parts (the DATA chunks), so it is held once.
  const parts = new MessageParts([headers.build(), ...body]);
  const data: MessageData = parts.length > STREAMED_BODY_BYTES ? parts : Buffer.concat(parts.parts, parts.length);
  return { data, sender, messageId: messageId.slice(0, 998), subject: subject.slice(0, 998), severity, ...(problem ? { problem } : {}) };
}

/** A field's value when the block has it, for severityOf. */
function fieldValue(headers: Headers, key: string): string | undefined {
  return hasField(headers, key) ? headers.getFirst(key).trim() : undefined;
}

function safeDecode(value: string): string {
  try {
    return libmime.decodeWords(value).replace(/\s+/g, ' ').trim();
  } catch {
    return value;
  }
}
