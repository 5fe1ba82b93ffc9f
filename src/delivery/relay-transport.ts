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
  heloName: string;
  timeoutSeconds: number;
  poolSize: number;
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
    auth: o.auth,
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
  private readonly transporter;
  readonly description: string;

  constructor(options: RelayOptions) {
    this.transporter = nodemailer.createTransport(nodemailerOptions(options));
    this.description = `${options.host}:${options.port}`;
  }

  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendResult> {
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
