import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { Security } from '../settings/settings.entity.js';
import { MailTransport, SendResult, TransportError } from './transport.js';

export interface RelayOptions {
  host: string;
  port: number;
  security: Security;
  tlsVerify: boolean;
  auth?: { user: string; pass: string };
  /** OAuth2 (SASL XOAUTH2) instead of a password: the mailbox and where its access tokens come from. */
  oauth?: { user: string; tokens: AccessTokenSource };
  heloName: string;
  timeoutSeconds: number;
  poolSize: number;
}

/** Gives access tokens: a cached one while fresh; `force` when the server refused the last one. */
export interface AccessTokenSource {
  token(force?: boolean): Promise<string>;
}

/** nodemailer's OAuth2 auth: each new connection asks the source (fresh token, renewed on refusal). */
function oauthAuth(oauth: NonNullable<RelayOptions['oauth']>) {
  return {
    type: 'OAuth2' as const,
    user: oauth.user,
    provisionCallback: (_user: string, renew: boolean, done: (err: Error | null, accessToken?: string) => void) => {
      oauth.tokens.token(renew).then(
        (t) => done(null, t),
        (err: unknown) => done(err as Error),
      );
    },
  };
}

/** Builds nodemailer's options for a relay; shared by the delivery transport and the test email. */
export function nodemailerOptions(o: RelayOptions): SMTPPool.Options {
  const timeout = o.timeoutSeconds * 1000;
  return {
    pool: true,
    host: o.host.replace(/^\[(.*)\]$/, '$1'),
    port: o.port,
    secure: o.security === 'tls',
    requireTLS: o.security === 'starttls',
    ignoreTLS: o.security === 'none',
    tls: { rejectUnauthorized: o.tlsVerify, servername: o.host },
    auth: (o.oauth ? oauthAuth(o.oauth) : o.auth) as SMTPPool.Options['auth'],
    name: o.heloName,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    maxConnections: o.poolSize,
    maxMessages: 1000,
    logger: false,
  };
}

interface SentInfo {
  accepted: (string | { address: string })[];
  rejected: (string | { address: string })[];
  rejectedErrors?: TransportError[] & { recipient?: string }[];
  response: string;
}

const addr = (a: string | { address: string }): string => (typeof a === 'string' ? a : a.address);

/** Delivery through the configured relay over pooled connections. */
export class RelayTransport implements MailTransport {
  private transporter;
  readonly description: string;
  /** With OAuth2: the token the pool's connections logged in with. */
  private poolToken?: string;

  constructor(private readonly options: RelayOptions) {
    this.transporter = nodemailer.createTransport(nodemailerOptions(options));
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
      throw Object.assign(new Error(`OAuth2 token request failed: ${reply}`), { code: 'EOAUTH2', response: `OAuth2 token request failed: ${reply}`, command: 'AUTH XOAUTH2', relay: this.description });
    }
    if (this.poolToken !== undefined && this.poolToken !== token) {
      const old = this.transporter;
      this.transporter = nodemailer.createTransport(nodemailerOptions(this.options));
      setTimeout(() => old.close(), 30_000).unref();
    }
    this.poolToken = token;
  }

  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendResult> {
    await this.freshPool();
    try {
      const info = (await this.transporter.sendMail({ envelope, raw })) as unknown as SentInfo;
      return {
        accepted: info.accepted.map(addr),
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

  close(): void {
    this.transporter.close();
  }
}
