import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import { domainOf } from '../common/address.js';
import { MessageData } from '../common/message-data.js';
import { sendOnce } from './smtp-session.js';
import { DirectOptions, directConnectionOptions } from './transport-options.js';
import { MailTransport, SendResult, TransportError } from './transport.js';

/** The DNS look-ups direct delivery needs; injected so tests run without the internet. */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  /** The addresses of a mail host (A/AAAA), tried in order; without it nodemailer resolves the name. */
  lookup?(host: string): Promise<string[]>;
}

export const systemResolver: MxResolver = {
  resolveMx: (d) => dns.resolveMx(d),
  lookup: async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address),
};

type Hosts = { hosts: string[] } | { error: { code: number | null; reply: string } };

/** An address literal as a domain (RFC 5321 §4.1.3): [192.0.2.1], [IPv6:2001:db8::1]. */
const ADDRESS_LITERAL = /^\[(?:ipv6:)?([0-9a-f:.]+)\]$/i;

/**
 * The hosts to try for a domain: its MX records in preference order, or the domain itself
 * when it has none (RFC 5321 §5.1). A "null MX" (RFC 7505) refuses mail for good.
 *
 * An address literal is that host, with no DNS look-up (RFC 5321 §5.1: there is nothing to
 * look up). Intake accepts x@[192.0.2.1] as the mailbox it is, and a relay takes it as it is, so
 * direct delivery sends it too rather than asking DNS for an MX of "[192.0.2.1]". A literal that
 * names this Postroom comes back through its own listener, where the hop count ends the loop.
 */
export async function mailHosts(resolver: MxResolver, domain: string): Promise<Hosts> {
  const literal = ADDRESS_LITERAL.exec(domain)?.[1];
  if (literal !== undefined && isIP(literal)) return { hosts: [literal] };
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

/** One mail server of a domain to try: an address of one of its mail hosts. */
export interface MailServer {
  host: string;
  address: string;
  /** "host[address]", or the host when it is an address itself. */
  where: string;
}

/** What trying one mail server came to: an answer that stands, or a failure that moves on to the next server. */
export type ServerOutcome<T> = { final: T } | { next: string };

/**
 * The MX loop of direct delivery and of the test email: the mail hosts in order, each at its
 * addresses (A/AAAA, from the resolver) in order, until one gives an answer that stands. Without
 * one, every failure as "where: reason" (address look-ups too).
 */
export async function tryMailServers<T>(resolver: MxResolver, hosts: string[], attempt: (server: MailServer) => Promise<ServerOutcome<T>>): Promise<{ final: T } | { failures: string[] }> {
  const failures: string[] = [];
  for (const host of hosts) {
    let addresses: string[];
    try {
      addresses = isIP(host) || !resolver.lookup ? [host] : await resolver.lookup(host);
    } catch (err) {
      failures.push(`${host}: address lookup failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    if (addresses.length === 0) failures.push(`${host}: no address record`);
    for (const address of addresses) {
      const where = address === host ? host : `${host}[${address}]`;
      const outcome = await attempt({ host, address, where });
      if ('final' in outcome) return outcome;
      failures.push(`${where}: ${outcome.next}`);
    }
  }
  return { failures };
}

/** Delivery straight to each recipient domain's MX, with opportunistic STARTTLS. */
export class DirectTransport implements MailTransport {
  readonly description = 'direct (MX)';

  constructor(
    private readonly resolver: MxResolver,
    private readonly options: DirectOptions,
  ) {}

  async send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SendResult> {
    const byDomain = new Map<string, string[]>();
    for (const rcpt of envelope.to) byDomain.set(domainOf(rcpt), [...(byDomain.get(domainOf(rcpt)) ?? []), rcpt]);
    const result: SendResult = { accepted: [], rejected: [], reply: '', relay: '', via: {} };
    const relays: string[] = [];
    await Promise.all(
      [...byDomain].map(async ([domain, rcpts]) => {
        const r = await this.sendToDomain(domain, { from: envelope.from, to: rcpts }, raw);
        result.accepted.push(...r.accepted);
        result.rejected.push(...r.rejected);
        if (r.reply) result.reply = r.reply;
        if (r.relay) relays.push(r.relay);
        // Each domain's server and its reply, for its own recipients' lines (and their bounces' Remote-MTA).
        for (const recipient of [...r.accepted, ...r.rejected.map((x) => x.recipient)]) result.via![recipient.toLowerCase()] = { relay: r.relay || this.description, reply: r.reply };
      }),
    );
    result.relay = relays.join(', ') || this.description;
    return result;
  }

  private async sendToDomain(domain: string, envelope: { from: string; to: string[] }, raw: MessageData): Promise<SendResult> {
    const found = await mailHosts(this.resolver, domain);
    if ('error' in found) return { accepted: [], rejected: envelope.to.map((recipient) => ({ recipient, ...found.error })), reply: '', relay: '' };
    const port = this.options.port ?? 25;
    let lastRelay = '';
    const tried = await tryMailServers<SendResult>(this.resolver, found.hosts, async ({ host, address, where }) => {
      lastRelay = `${where}:${port}`;
      try {
        // One connection per server, ended with QUIT (sendOnce); it reports the addresses as given.
        const info = (await sendOnce({ connection: directConnectionOptions(address, port, this.options, host) as SMTPConnectionOptions }, envelope, raw)) as unknown as {
          accepted: string[];
          rejectedErrors?: TransportError[];
          response: string;
        };
        return {
          final: {
            accepted: info.accepted.map(String),
            rejected: (info.rejectedErrors ?? []).map((e) => ({ recipient: (e as { recipient?: string }).recipient ?? '', code: e.responseCode ?? null, reply: oneLine(e.response || e.message) })),
            reply: info.response,
            relay: lastRelay,
          },
        };
      } catch (err) {
        const e = err as TransportError;
        if (e.rejectedErrors?.length) {
          return {
            final: {
              accepted: [],
              rejected: e.rejectedErrors.map((r) => ({ recipient: (r as { recipient?: string }).recipient ?? '', code: r.responseCode ?? null, reply: oneLine(r.response || r.message) })),
              reply: '',
              relay: lastRelay,
            },
          };
        }
        // A 5xx to MAIL or DATA is final for every recipient. A 5xx greeting or EHLO is "no
        // SMTP service here" (RFC 5321 §3.1): the next MX is tried, as Postfix does (smtp_skip_5xx_greeting).
        if (e.responseCode && e.responseCode >= 500 && (e.command === 'MAIL FROM' || e.command === 'DATA')) {
          return { final: { accepted: [], rejected: envelope.to.map((recipient) => ({ recipient, code: e.responseCode!, reply: oneLine(e.response || e.message) })), reply: '', relay: lastRelay } };
        }
        // A connection failure, a timeout or a 4xx: the next address, then the next MX.
        return { next: oneLine(e.response || e.message) };
      }
    });
    if ('final' in tried) return tried.final;
    const reply = `no mail server of ${domain} took the message on port ${port} (${tried.failures.join('; ') || 'no host to try'})`;
    return { accepted: [], rejected: envelope.to.map((recipient) => ({ recipient, code: null, reply: reply.slice(0, 1000) })), reply: '', relay: lastRelay };
  }

  close(): void {}
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
