import type { MailTransport, SendResult, TransportError } from './transport.js';

/**
 * A relay that cannot log in as configured: its stored secret does not open with this
 * SECRET_KEY. Every send fails at once, before any connection, as an authentication failure:
 * failover moves on to the next relay, and with no relay left the message is deferred with the
 * reason (never bounced), until the secret is entered again.
 */
export class UnusableTransport implements MailTransport {
  constructor(
    readonly description: string,
    private readonly reason: string,
  ) {}

  send(): Promise<SendResult> {
    const err: TransportError = Object.assign(new Error(this.reason), { code: 'EAUTH', response: this.reason, command: 'AUTH', relay: this.description });
    return Promise.reject(err);
  }

  close(): void {
    // nothing was opened
  }
}
