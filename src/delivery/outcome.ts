import { SendResult, TransportError } from './transport.js';

import type { FailureKind } from '../relays/relay-health.types.js';

export type { FailureKind };

export interface RecipientOutcome {
  recipient: string;
  status: 'sent' | 'deferred' | 'bounced';
  reply: string;
  code: number | null;
}

export interface AttemptOutcome {
  recipients: RecipientOutcome[];
  /** Set when the attempt as a whole failed: what kind of failure, for the event log. */
  failure?: { kind: FailureKind; reply: string };
  relay: string | null;
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
  return {
    relay: result.relay,
    recipients: [
      ...result.accepted.map((recipient) => ({ recipient, status: 'sent' as const, reply: result.reply, code: replyCode(result.reply) })),
      ...result.rejected.map((r) => ({ recipient: r.recipient, status: permanent(r.code) ? ('bounced' as const) : ('deferred' as const), reply: r.reply, code: r.code })),
    ],
  };
}

/**
 * Per-recipient outcomes of a failed send. A refusal of single recipients touches only them;
 * a failure of the session defers everyone, except a 5xx reply to MAIL or DATA, which bounces.
 * Authentication and TLS failures always defer: they are our configuration, not the message.
 */
export function outcomeOfError(err: TransportError, pending: string[]): AttemptOutcome {
  const kind = failureKind(err);
  const relay = err.relay ?? null;
  if (err.rejectedErrors?.length) {
    const byRecipient = new Map(err.rejectedErrors.map((e) => [(e.recipient ?? '').toLowerCase(), e]));
    return {
      relay,
      failure: { kind: 'rejected', reply: replyText(err) },
      recipients: pending.map((recipient) => {
        const e = byRecipient.get(recipient.toLowerCase());
        const code = e?.responseCode ?? err.responseCode ?? null;
        const reply = (e?.response || e?.message || replyText(err)).replace(/\s+/g, ' ').trim();
        return { recipient, status: permanent(code) ? 'bounced' : 'deferred', reply, code };
      }),
    };
  }
  const code = err.responseCode ?? null;
  const bounces = kind === 'rejected' && permanent(code);
  return {
    relay,
    failure: { kind, reply: replyText(err) },
    recipients: pending.map((recipient) => ({ recipient, status: bounces ? 'bounced' : 'deferred', reply: replyText(err), code })),
  };
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
