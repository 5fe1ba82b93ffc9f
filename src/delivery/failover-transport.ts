import type { MessageData } from '../common/message-data.js';
import { DEFAULT_RELAY_RETRY_MS, type RelayHealthObserver, refusedRecipients } from '../relays/relay-health.types.js';
import { failureKind, isPolicyRefusal, replyText } from './outcome.js';
import { MailTransport, SendResult, TransportError } from './transport.js';

/** One relay of a failover transport; the list is given in priority order (lower first). */
export interface FailoverRelay {
  /** 'primary' or a backup relay's id: the health key. */
  key: string;
  transport: MailTransport;
}

export interface FailoverOptions {
  health?: RelayHealthObserver;
  /** How long a relay that just failed goes to the back of the line (default 30 s). */
  retryAfterMs?: number;
  now?: () => number;
}

/** An error of a whole attempt over several relays, with what each relay answered. */
export interface FailoverError extends TransportError {
  attempts?: { relay: string; kind: string; reply: string }[];
}

const isFiveHundred = (code: number | undefined): boolean => typeof code === 'number' && code >= 500 && code < 600;

/**
 * Whether a failed attempt on one relay should move on to the next relay ('next') or stands
 * for the message ('final'):
 * - no reply at all (connection refused or lost, DNS, TLS, timeout): next;
 * - authentication failures (535, 454, no credentials): next — that relay's configuration;
 * - any 4xx (greeting 421, AUTH 454, MAIL 4xx, DATA 4xx, every recipient 4xx): next;
 * - 5xx to a recipient or to DATA: final — it is the message, not the relay — unless it is a
 *   policy refusal (5.7.x, 530, a refused EHLO name): that is this relay's configuration, next;
 * - 5xx at the greeting, EHLO, STARTTLS or MAIL FROM: next (a relay's own policy, e.g. a sender
 *   it does not allow); when every relay says so, the last answer stands;
 * - errors nodemailer raises before talking (API: an invalid address): final.
 */
export function failoverDecision(err: TransportError): 'next' | 'final' {
  const command = (err.command ?? '').toUpperCase();
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'EOAUTH2') return 'next';
  if (command === 'API') return 'final';
  if (err.rejectedErrors?.length) {
    // Every recipient refused: for good if any refusal is about the message, else the relay is busy or refuses on policy.
    return err.rejectedErrors.some((e) => isFiveHundred(e.responseCode) && !isPolicyRefusal(e.responseCode, e.response ?? '')) ? 'final' : 'next';
  }
  if (isFiveHundred(err.responseCode)) {
    if (policyRefused(err)) return 'next';
    if (command.startsWith('RCPT') || command === 'DATA' || err.code === 'EMESSAGE') return 'final';
    return 'next';
  }
  return 'next';
}

/** A refusal on policy grounds (5.7.x, 530, a refused EHLO name): about this relay's configuration, not the message or a recipient. */
function policyRefused(err: TransportError): boolean {
  if (err.rejectedErrors?.length) return err.rejectedErrors.some((e) => isPolicyRefusal(e.responseCode, e.response ?? ''));
  return isPolicyRefusal(err.responseCode, err.response ?? err.message);
}

/** Whether the worker would defer (rather than bounce) on this error: see outcomeOfError. */
const defers = (err: TransportError): boolean => !(failureKind(err) === 'rejected' && isFiveHundred(err.responseCode));

/**
 * Delivery over several relays in priority order. A relay that fails the whole attempt
 * (failoverDecision 'next') hands the message to the next one; a relay that failed within the
 * last retryAfterMs is tried after the others, then first again once that time is over, so a
 * relay that comes back takes the mail again quickly. Each relay's outcome goes to the health
 * observer. With a single relay, it behaves as that relay (the error is passed on unchanged).
 */
export class FailoverTransport implements MailTransport {
  readonly description: string;
  private readonly health: RelayHealthObserver;
  private readonly retryAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly relays: FailoverRelay[],
    options: FailoverOptions = {},
  ) {
    if (relays.length === 0) throw new Error('FailoverTransport needs at least one relay');
    this.health = options.health ?? new MemoryRelayHealth();
    this.retryAfterMs = options.retryAfterMs ?? DEFAULT_RELAY_RETRY_MS;
    this.now = options.now ?? Date.now;
    this.description = relays.map((r) => r.transport.description).join(' → ');
  }

  /** The order for the next message: priority order, relays failing within the back-off last. */
  order(): FailoverRelay[] {
    const now = this.now();
    const ready: FailoverRelay[] = [];
    const resting: FailoverRelay[] = [];
    for (const r of this.relays) {
      const since = this.safely(() => this.health.failingSince(r.key, r.transport.description));
      (since !== undefined && now - since < this.retryAfterMs ? resting : ready).push(r);
    }
    return [...ready, ...resting];
  }

  async send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SendResult> {
    const errors: TransportError[] = [];
    for (const r of this.order()) {
      const relay = r.transport.description;
      const started = this.now();
      try {
        const result = await r.transport.send(envelope, raw);
        this.safely(() => this.health.succeeded(r.key, relay, this.now() - started, result.rejected.length));
        return result;
      } catch (e) {
        const err = (e instanceof Error ? e : new Error(String(e))) as TransportError;
        err.relay ??= relay;
        if (failoverDecision(err) === 'final') {
          // The relay answered and refused the message itself: the relay works.
          this.safely(() => this.health.succeeded(r.key, relay, this.now() - started, refusedRecipients(err)));
          throw err;
        }
        // Recipients refused with 4xx move the message on, yet the relay answered: it is not
        // failing. A policy refusal is this relay's configuration: it is.
        const refused = policyRefused(err) ? 0 : refusedRecipients(err);
        this.safely(() =>
          refused
            ? this.health.succeeded(r.key, relay, this.now() - started, refused)
            : this.health.failed(r.key, relay, failureKind(err), replyText(err), !err.announced),
        );
        errors.push(err);
      }
    }
    throw combine(errors);
  }

  close(): void {
    for (const r of this.relays) r.transport.close();
  }

  private safely<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch {
      return undefined; // health bookkeeping never stops a delivery
    }
  }
}

/**
 * Every relay failed. With one relay, its error as it is. With more, the first error that
 * defers the message (a relay that may work later) leads, its reply naming what each relay
 * said; only when every relay refused the message for good does the last refusal stand.
 */
function combine(errors: TransportError[]): TransportError {
  if (errors.length === 1) return errors[0]!;
  const lead = errors.find(defers);
  if (!lead) return errors[errors.length - 1]!;
  const summary = errors.map((e) => `${e.relay ?? '?'}: ${replyText(e)}`).join('; ');
  const err = new Error(`all ${errors.length} relays failed — ${summary}`) as FailoverError;
  err.code = lead.code;
  err.responseCode = lead.responseCode;
  err.command = lead.command;
  err.response = err.message;
  err.relay = lead.relay;
  err.attempts = errors.map((e) => ({ relay: e.relay ?? '?', kind: failureKind(e), reply: replyText(e) }));
  return err;
}

/** The smallest health observer: remembers failures in memory (the default, and for tests). */
export class MemoryRelayHealth implements RelayHealthObserver {
  readonly events: { key: string; relay: string; ok: boolean; kind?: string; reason?: string; latencyMs?: number }[] = [];
  private readonly failing = new Map<string, { relay: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  succeeded(key: string, relay: string, latencyMs: number): void {
    this.events.push({ key, relay, ok: true, latencyMs });
    this.failing.delete(key);
  }

  failed(key: string, relay: string, kind: string, reason: string): void {
    this.events.push({ key, relay, ok: false, kind, reason });
    this.failing.set(key, { relay, at: this.now() });
  }

  failingSince(key: string, relay: string): number | undefined {
    const f = this.failing.get(key);
    return f && f.relay === relay ? f.at : undefined;
  }
}
