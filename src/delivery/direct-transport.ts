import { promises as dns } from 'node:dns';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { domainOf } from '../common/address.js';
import { MailTransport, SendResult, TransportError } from './transport.js';

/** The DNS look-ups direct delivery needs; injected so tests run without the internet. */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
}

export const systemResolver: MxResolver = { resolveMx: (d) => dns.resolveMx(d) };

export interface DirectOptions {
  heloName: string;
  timeoutSeconds: number;
  /** 25 in production; tests point it at a loopback sink. */
  port?: number;
}

type Hosts = { hosts: string[] } | { error: { code: number | null; reply: string } };

/**
 * The hosts to try for a domain: its MX records in preference order, or the domain itself
 * when it has none (RFC 5321 §5.1). A "null MX" (RFC 7505) refuses mail for good.
 */
export async function mailHosts(resolver: MxResolver, domain: string): Promise<Hosts> {
  try {
    const records = (await resolver.resolveMx(domain)).sort((a, b) => a.priority - b.priority);
    if (records.length === 1 && (records[0]?.exchange === '' || records[0]?.exchange === '.')) {
      return { error: { code: 556, reply: `556 5.1.10 ${domain} does not accept mail (null MX)` } };
    }
    if (records.length > 0) return { hosts: records.map((r) => r.exchange) };
    return { hosts: [domain] };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODATA') return { hosts: [domain] };
    if (code === 'ENOTFOUND') return { error: { code: 550, reply: `550 5.1.2 domain ${domain} not found in DNS` } };
    return { error: { code: null, reply: `DNS lookup of MX for ${domain} failed: ${code ?? (err as Error).message}` } };
  }
}

/** nodemailer's options for one MX host: opportunistic STARTTLS, no certificate check (as MTAs do). */
export function directNodemailerOptions(host: string, port: number, o: Pick<DirectOptions, 'heloName' | 'timeoutSeconds'>): SMTPTransport.Options {
  const timeout = o.timeoutSeconds * 1000;
  return {
    host,
    port,
    secure: false,
    opportunisticTLS: true,
    tls: { rejectUnauthorized: false },
    name: o.heloName,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    logger: false,
  } as SMTPTransport.Options;
}

/** Delivery straight to each recipient domain's MX, with opportunistic STARTTLS. */
export class DirectTransport implements MailTransport {
  readonly description = 'direct (MX)';

  constructor(
    private readonly resolver: MxResolver,
    private readonly options: DirectOptions,
  ) {}

  async send(envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendResult> {
    const byDomain = new Map<string, string[]>();
    for (const rcpt of envelope.to) byDomain.set(domainOf(rcpt), [...(byDomain.get(domainOf(rcpt)) ?? []), rcpt]);
    const result: SendResult = { accepted: [], rejected: [], reply: '', relay: '' };
    const relays: string[] = [];
    await Promise.all(
      [...byDomain].map(async ([domain, rcpts]) => {
        const r = await this.sendToDomain(domain, { from: envelope.from, to: rcpts }, raw);
        result.accepted.push(...r.accepted);
        result.rejected.push(...r.rejected);
        if (r.reply) result.reply = r.reply;
        if (r.relay) relays.push(r.relay);
      }),
    );
    result.relay = relays.join(', ') || this.description;
    return result;
  }

  private async sendToDomain(domain: string, envelope: { from: string; to: string[] }, raw: Buffer): Promise<SendResult> {
    const found = await mailHosts(this.resolver, domain);
    if ('error' in found) return { accepted: [], rejected: envelope.to.map((recipient) => ({ recipient, ...found.error })), reply: '', relay: '' };
    let last: { code: number | null; reply: string } = { code: null, reply: `no mail host for ${domain} answered` };
    let lastRelay = '';
    for (const host of found.hosts) {
      const port = this.options.port ?? 25;
      lastRelay = `${host}:${port}`;
      const transporter = nodemailer.createTransport(directNodemailerOptions(host, port, this.options));
      try {
        const info = (await transporter.sendMail({ envelope, raw })) as unknown as {
          accepted: string[];
          rejectedErrors?: TransportError[];
          response: string;
        };
        return {
          accepted: info.accepted.map(String),
          rejected: (info.rejectedErrors ?? []).map((e) => ({ recipient: (e as { recipient?: string }).recipient ?? '', code: e.responseCode ?? null, reply: (e.response || e.message).trim() })),
          reply: info.response,
          relay: lastRelay,
        };
      } catch (err) {
        const e = err as TransportError;
        if (e.rejectedErrors?.length) {
          return {
            accepted: [],
            rejected: e.rejectedErrors.map((r) => ({ recipient: (r as { recipient?: string }).recipient ?? '', code: r.responseCode ?? null, reply: (r.response || r.message).trim() })),
            reply: '',
            relay: lastRelay,
          };
        }
        last = { code: e.responseCode ?? null, reply: `${host}: ${(e.response || e.message).replace(/\s+/g, ' ').trim()}` };
        // A 5xx from a server that answered is final; a connection failure or 4xx tries the next MX.
        if (e.responseCode && e.responseCode >= 500) break;
      } finally {
        transporter.close();
      }
    }
    return { accepted: [], rejected: envelope.to.map((recipient) => ({ recipient, ...last })), reply: '', relay: lastRelay };
  }

  close(): void {}
}
