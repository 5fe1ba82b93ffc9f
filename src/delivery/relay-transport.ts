import type { MessageData } from '../common/message-data.js';
import { SmtpThreadHost, ThreadedSmtpPool } from './smtp-thread.js';
import type { PoolLogin } from './smtp-thread.protocol.js';
import { RelayOptions, relayConnectionOptions } from './transport-options.js';
import { MailTransport, SendResult, TransportError } from './transport.js';

/** Messages per relay connection before a fresh one, and how long an unused one stays open. */
const MAX_MESSAGES_PER_CONNECTION = 1000;
const IDLE_CONNECTION_MS = 30_000;

/** The login of a pooled connection: SASL with the password, or XOAUTH2 with tokens from the source. */
export function poolLogin(o: RelayOptions): PoolLogin | undefined {
  if (o.oauth) return { user: o.oauth.user, oauth2: true };
  if (o.auth) return { user: o.auth.user, pass: o.auth.pass };
  return undefined;
}

/** The relay's connection pool, on the delivery thread. */
function relayPool(o: RelayOptions, threads: SmtpThreadHost): ThreadedSmtpPool {
  const options = { connection: relayConnectionOptions(o), login: poolLogin(o), maxConnections: o.poolSize, maxMessages: MAX_MESSAGES_PER_CONNECTION, idleMs: IDLE_CONNECTION_MS };
  return new ThreadedSmtpPool(threads, options, o.oauth?.tokens);
}

/** Delivery through the configured relay over pooled connections, on the delivery thread that `threads` holds. */
export class RelayTransport implements MailTransport {
  private pool: ThreadedSmtpPool;
  readonly description: string;
  /** With OAuth2: the token the pool's connections logged in with. */
  private poolToken?: string;
  /** Pools replaced after a token change, finishing their sends. */
  private readonly retired = new Set<ThreadedSmtpPool>();

  constructor(
    private readonly options: RelayOptions,
    private readonly threads: SmtpThreadHost,
  ) {
    this.pool = relayPool(options, threads);
    this.description = `${options.host}:${options.port}`;
  }

  /**
   * With OAuth2, every message first gets a fresh token (cached, refreshed ahead of expiry); a
   * token request that fails is an EOAUTH2 error (kind 'auth': the message is deferred). When
   * the token has changed, the pool is replaced, so no message goes over a connection that
   * logged in with an expired token; the old pool finishes its sends and is closed.
   */
  private async freshPool(): Promise<void> {
    const oauth = this.options.oauth;
    if (!oauth) return;
    let token: string;
    try {
      token = await oauth.tokens.token();
    } catch (err) {
      const e = err as Error & { reply?: string };
      const reply = e.reply ?? e.message;
      throw Object.assign(new Error(`OAuth2 token request failed: ${reply}`), { code: 'EOAUTH2', response: `OAuth2 token request failed: ${reply}`, command: 'AUTH XOAUTH2', relay: this.description, announced: true });
    }
    if (this.poolToken !== undefined && this.poolToken !== token) {
      const old = this.pool;
      this.pool = relayPool(this.options, this.threads);
      this.retired.add(old);
      setTimeout(() => this.retired.delete(old) && old.close(), 30_000).unref();
    }
    this.poolToken = token;
  }

  async send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SendResult> {
    await this.freshPool();
    try {
      const info = await this.pool.send(envelope, raw);
      return {
        accepted: info.accepted,
        rejected: (info.rejectedErrors ?? []).map((e) => ({
          recipient: (e as { recipient?: string }).recipient ?? '',
          code: e.responseCode ?? null,
          reply: (e.response || e.message).replace(/\s+/g, ' ').trim(),
        })),
        reply: info.response,
        relay: this.description,
      };
    } catch (err) {
      throw Object.assign(err as TransportError, { relay: this.description });
    }
  }

  /** Closes every pool, those replaced within the last 30 s too: their idle connections QUIT. */
  close(): void {
    for (const old of this.retired) old.close();
    this.retired.clear();
    this.pool.close();
  }
}
