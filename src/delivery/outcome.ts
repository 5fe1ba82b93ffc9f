import { SendResult, TransportError } from './transport.js';

import type { FailureKind } from '../relays/relay-health.types.js';

export type { FailureKind };

export interface RecipientOutcome {
  recipient: string;
  status: 'sent' | 'deferred' | 'bounced';
  reply: string;
  code: number | null;
  /** Where this recipient went when not the attempt's relay: a notification channel's name. */
  relay?: string;
  /** A channel's Retry-After, in milliseconds: it is tried again then rather than after the backoff. */
  retryAfterMs?: number;
}

export interface AttemptOutcome {
  recipients: RecipientOutcome[];
  /** Set when the attempt as a whole failed: what kind of failure, for the event log. */
  failure?: { kind: FailureKind; reply: string };
  /** A relay refused on policy grounds (isPolicyRefusal): the first such reply, for the alarm. */
  policy?: { reply: string };
  relay: string | null;
}

/**
 * Whether a 5xx reply is a relay's policy about Postroom rather than about the message or the
 * mailbox: an enhanced status 5.7.x (relay access denied, authentication required, sender not
 * authorised), a 530 (authentication required, often without an enhanced code), or a refused
 * EHLO name ("504 5.5.2 <nas>: Helo command rejected"). Such a refusal is Postroom's
 * configuration: the message is deferred as Postfix's soft_bounce would, not bounced, until it
 * is fixed or the message's lifetime ends. 5.1.x (no such mailbox) and others stay permanent.
 */
export function isPolicyRefusal(code: number | null | undefined, reply: string): boolean {
  if (!permanent(code)) return false;
  if (code === 530) return true;
  const text = reply.trimStart();
  if (/^5\d\d[ -]5\.7\.\d{1,3}\b/.test(text) || (!/^\d{3}[ -]/.test(text) && /^5\.7\.\d{1,3}\b/.test(text))) return true;
  return /\bhelo command rejected\b/i.test(text);
}

/** A recipient's status for a reply: 5xx bounces unless it is a policy refusal; everything else defers. */
const statusFor = (code: number | null | undefined, reply: string): RecipientOutcome['status'] =>
  permanent(code) && !isPolicyRefusal(code, reply) ? 'bounced' : 'deferred';

/** The first policy refusal among the recipients, for AttemptOutcome.policy. */
function policyOf(recipients: RecipientOutcome[]): AttemptOutcome['policy'] {
  const r = recipients.find((x) => isPolicyRefusal(x.code, x.reply));
  return r ? { reply: r.reply } : undefined;
}

/** What kind of failure a transport error is (nodemailer's codes and the SMTP reply). */
export function failureKind(err: TransportError): FailureKind {
  switch (err.code) {
    case 'EAUTH':
    case 'ENOAUTH':
    case 'EOAUTH2':
      return 'auth';
    case 'ETLS':
      return 'tls';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EDNS':
    case 'ENOTFOUND':
      return 'dns';
    case 'EENVELOPE':
    case 'EMESSAGE':
      return 'rejected';
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'ECONNREFUSED':
      return /certificate|self[- ]signed|tls|ssl/i.test(err.message) ? 'tls' : 'connection';
    default:
      if (err.responseCode) return 'rejected';
      if (/certificate|self[- ]signed|tls|ssl/i.test(err.message)) return 'tls';
      return 'protocol';
  }
}

/** A short, single-line reason for logs and the queue's "last error". */
export function replyText(err: TransportError): string {
  const text = (err.response || err.message || 'unknown error').replace(/\s+/g, ' ').trim();
  return text.slice(0, 1000);
}

/** 5xx is permanent for that recipient; everything else (4xx, no reply at all) is temporary. */
const permanent = (code: number | null | undefined): boolean => typeof code === 'number' && code >= 500 && code < 600;

/** Per-recipient outcomes of a successful send (some recipients may have been refused). */
export function outcomeOfResult(result: SendResult): AttemptOutcome {
  const via = (recipient: string) => result.via?.[recipient.toLowerCase()];
  const relayOf = (recipient: string) => {
    const v = via(recipient);
    return v && v.relay !== result.relay ? { relay: v.relay } : {};
  };
  const refused = result.rejected.map((r) => ({ recipient: r.recipient, status: statusFor(r.code, r.reply), reply: r.reply, code: r.code, ...relayOf(r.recipient) }));
  const policy = refused.length ? policyOf(refused) : undefined;
  const sent = result.accepted.map((recipient) => {
    const reply = via(recipient)?.reply ?? result.reply;
    return { recipient, status: 'sent' as const, reply, code: replyCode(reply), ...relayOf(recipient) };
  });
  return { relay: result.relay, recipients: [...sent, ...refused], ...(policy ? { policy } : {}) };
}

/**
 * Per-recipient outcomes of a failed send. A refusal of single recipients touches only them;
 * a failure of the session defers everyone, except a 5xx reply to MAIL or DATA, which bounces.
 * Authentication and TLS failures always defer: they are our configuration, not the message;
 * so do policy refusals (isPolicyRefusal), at MAIL, RCPT or DATA.
 */
export function outcomeOfError(err: TransportError, pending: string[]): AttemptOutcome {
  const kind = failureKind(err);
  const relay = err.relay ?? null;
  if (err.rejectedErrors?.length) {
    const byRecipient = new Map(err.rejectedErrors.map((e) => [(e.recipient ?? '').toLowerCase(), e]));
    const recipients = pending.map((recipient): RecipientOutcome => {
      const e = byRecipient.get(recipient.toLowerCase());
      const code = e?.responseCode ?? err.responseCode ?? null;
      const reply = (e?.response || e?.message || replyText(err)).replace(/\s+/g, ' ').trim();
      return { recipient, status: statusFor(code, reply), reply, code };
    });
    const policy = policyOf(recipients);
    return { relay, failure: { kind: 'rejected', reply: replyText(err) }, recipients, ...(policy ? { policy } : {}) };
  }
  const code = err.responseCode ?? null;
  const reply = replyText(err);
  const own = kind === 'rejected' && isPolicyRefusal(code, err.response || err.message || '');
  const policy = own ? { reply } : policyOfAttempts(err);
  const bounces = kind === 'rejected' && permanent(code) && !own;
  return {
    relay,
    failure: { kind, reply },
    recipients: pending.map((recipient) => ({ recipient, status: bounces ? 'bounced' : 'deferred', reply, code })),
    ...(policy ? { policy } : {}),
  };
}

/** An error combined over several relays (which defers anyway): a policy refusal of one of them, from its `attempts`. */
function policyOfAttempts(err: TransportError): AttemptOutcome['policy'] {
  const attempts = (err as TransportError & { attempts?: { relay: string; reply: string }[] }).attempts;
  const refused = attempts?.find((a) => isPolicyRefusal(replyCode(a.reply), a.reply));
  return refused ? { reply: `${refused.relay}: ${refused.reply}` } : undefined;
}

export function replyCode(reply: string): number | null {
  const m = /^([2-5]\d\d)\b/.exec(reply);
  return m ? Number(m[1]) : null;
}

/**
 * Puts an outcome in the queue's own spelling of each recipient: transports may report an
 * address differently (nodemailer lower-cases domains), and a recipient that is not recognised
 * would stay pending and be sent again. Recipients the transport did not mention stay pending.
 */
export function alignRecipients(outcome: AttemptOutcome, recipients: string[]): AttemptOutcome {
  const unclaimed = new Map<string, string[]>();
  for (const r of recipients) unclaimed.set(r.toLowerCase(), [...(unclaimed.get(r.toLowerCase()) ?? []), r]);
  const aligned: RecipientOutcome[] = [];
  for (const r of outcome.recipients) {
    const spelled = unclaimed.get(r.recipient.toLowerCase())?.shift();
    if (spelled !== undefined) aligned.push({ ...r, recipient: spelled });
  }
  for (const rest of unclaimed.values()) {
    for (const recipient of rest) aligned.push({ recipient, status: 'deferred', reply: 'no answer for this recipient', code: null });
  }
  return { ...outcome, recipients: aligned };
}
