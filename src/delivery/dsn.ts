import { randomUUID } from 'node:crypto';
import { MessageData, headerSource } from '../common/message-data.js';
import { rfc5322Date, splitHeaders } from '../common/rfc5322.js';

/** One recipient of a delivery status notification (RFC 3464 per-recipient fields). */
export interface DsnRecipient {
  recipient: string;
  /** failed: 5.x.x; delayed: 4.x.x. */
  status: string;
  /** The server's reply or our reason, for Diagnostic-Code and the human-readable part. */
  reply: string;
  /** The host that answered, when one did. */
  remoteMta?: string;
}

export interface DsnInput {
  action: 'failed' | 'delayed';
  /** Our EHLO name: Reporting-MTA and the Message-ID's domain. */
  reportingMta: string;
  /** The From of the notice. */
  from: string;
  to: string;
  queueId: string;
  /** The original message's envelope sender ('' never gets a notice). */
  sender: string;
  arrivalDate: Date;
  now: Date;
  recipients: DsnRecipient[];
  /** The original message (only its header block is returned). */
  original: MessageData;
  originalSubject: string;
  originalMessageId?: string | null;
  /** failed: why ("expired" explains the lifetime); delayed: how long it has waited. */
  expiredAfterHours?: number;
  delayedForHours?: number;
  /** delayed: when Postroom gives up (Will-Retry-Until). */
  willRetryUntil?: Date;
}

const ENHANCED = /(?:^|\s|[245]\d\d-)([245])\.(\d{1,3})\.(\d{1,3})(?=[\s,;:]|$)/;

/**
 * The RFC 3463 status for a recipient: the enhanced code of the reply when it has one (forced to
 * the class of the notice), 5.4.7 for a message that outlived its lifetime, else x.0.0.
 */
export function dsnStatus(reply: string, action: 'failed' | 'delayed', expired = false): string {
  if (expired && action === 'failed') return '5.4.7';
  const cls = action === 'failed' ? '5' : '4';
  const m = ENHANCED.exec(reply);
  return m ? `${cls}.${m[2]}.${m[3]}` : `${cls}.0.0`;
}

/** Diagnostic-Code: `smtp; <reply>` when there is an SMTP reply in it, else our own reason. */
export function diagnosticCode(reply: string): string {
  const oneLine = reply.replace(/\s+/g, ' ').trim();
  const m = /(?:^|\s)([245]\d\d(?:[ -].*)?)$/.exec(oneLine);
  return m ? `smtp; ${m[1]}` : `X-Postroom; ${oneLine || 'no reply'}`;
}

/** "mx.example.org:25" → "mx.example.org"; undefined for a list of hosts or a description. */
export function remoteMtaOf(relay: string | null | undefined): string | undefined {
  if (!relay || relay.includes(', ')) return undefined;
  const m = /^(\[[^\]]+\]|[^\s:]+):\d+$/.exec(relay);
  if (!m) return undefined;
  // "[2001:db8::1]" → the address; "mx.example.org[192.0.2.1]" (direct delivery) → the name.
  return m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!.replace(/\[[^\]]*\]$/, '');
}

/** RFC 3464 fields are US-ASCII: anything else (a UTF-8 reply) becomes '?'. */
const ascii = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?');

function humanText(i: DsnInput): string {
  const lines: string[] = [`This is the mail system at host ${i.reportingMta} (Postroom).`, ''];
  if (i.action === 'failed') {
    lines.push(
      i.expiredAfterHours !== undefined
        ? `Your message could not be delivered to the recipients below within ${i.expiredAfterHours} hours, and Postroom has given up. It will not be tried again.`
        : 'Your message could not be delivered to the recipients below: their mail server refused it for good. It will not be tried again.',
    );
  } else {
    lines.push(
      `This is a warning only: your message has not yet been delivered to the recipients below after ${i.delayedForHours ?? '?'} hours.`,
      `Postroom keeps trying${i.willRetryUntil ? ` until ${rfc5322Date(i.willRetryUntil)}` : ''}; you do not need to send it again.`,
    );
  }
  lines.push('', `Subject: ${i.originalSubject || '(no subject)'}`, `Queue id: ${i.queueId}`, `Arrived: ${rfc5322Date(i.arrivalDate)}`, '');
  for (const r of i.recipients) lines.push(`<${r.recipient}>: ${r.reply.replace(/\s+/g, ' ').trim()}${r.remoteMta ? ` (from ${r.remoteMta})` : ''}`);
  lines.push('', 'The headers of your message are attached.', '');
  return lines.join('\r\n');
}

function deliveryStatus(i: DsnInput): string {
  const message = [
    `Reporting-MTA: dns; ${ascii(i.reportingMta)}`,
    `X-Postroom-Queue-ID: ${i.queueId}`,
    `X-Postroom-Sender: rfc822; ${ascii(i.sender)}`,
    `Arrival-Date: ${rfc5322Date(i.arrivalDate)}`,
  ];
  const blocks = i.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${ascii(r.recipient)}`,
      `Action: ${i.action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${ascii(r.remoteMta)}`] : []),
      `Diagnostic-Code: ${ascii(diagnosticCode(r.reply))}`,
      `Last-Attempt-Date: ${rfc5322Date(i.now)}`,
      ...(i.action === 'delayed' && i.willRetryUntil ? [`Will-Retry-Until: ${rfc5322Date(i.willRetryUntil)}`] : []),
    ].join('\r\n'),
  );
  return [message.join('\r\n'), ...blocks].join('\r\n\r\n') + '\r\n';
}

/**
 * An RFC 3464 delivery status notification: multipart/report; report-type=delivery-status with
 * a human-readable part, the message/delivery-status part and the original headers
 * (text/rfc822-headers). Built with nodemailer's MimeNode.
 */
export async function buildDsn(i: DsnInput): Promise<Buffer> {
  const { default: MimeNode } = await import('nodemailer/lib/mime-node/index.js');
  const root = new MimeNode('multipart/report; report-type=delivery-status');
  const subject = i.action === 'failed' ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  root.setHeader({
    From: i.from,
    To: i.to,
    Subject: i.originalSubject ? `${subject}: ${i.originalSubject}`.slice(0, 900) : subject,
    Date: rfc5322Date(i.now),
    'Message-ID': `<${randomUUID()}@${i.reportingMta}>`,
    'Auto-Submitted': 'auto-replied',
    ...(i.originalMessageId ? { References: i.originalMessageId, 'In-Reply-To': i.originalMessageId } : {}),
  });
  root.createChild('text/plain; charset=utf-8').setContent(humanText(i));
  root.createChild('message/delivery-status').setContent(deliveryStatus(i));
  const { head } = splitHeaders(headerSource(i.original));
  root.createChild('text/rfc822-headers').setContent(head.length ? head : Buffer.from('\r\n'));
  return new Promise((resolve, reject) => root.build((err: Error | null, buf: Buffer) => (err ? reject(err) : resolve(buf))));
}
