import { isIP } from 'node:net';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { DeliveryRelay } from '../relays/delivery-relay.js';
import type { Security } from '../relays/relay.entity.js';
import type { SettingsEntity } from '../settings/settings.entity.js';
import { heloNameOf } from '../settings/settings.service.js';
import type { AccessTokenSource } from './smtp-thread.protocol.js';

/**
 * The one builder of transport options. Delivery (TransportFactory: a RelayTransport per relay,
 * DirectTransport) and the test email (any relay, or the MX hosts) take their connection, TLS
 * and login options from here, so a test goes exactly the way mail goes.
 */

/** What the settings say about every connection. */
export interface ConnectionSettings {
  heloName: string;
  timeoutSeconds: number;
  /** Connections per relay (and messages sent at once). */
  poolSize: number;
}

export function connectionSettings(s: Pick<SettingsEntity, 'hostname' | 'timeoutSeconds' | 'poolSize'>): ConnectionSettings {
  return { heloName: heloNameOf(s), timeoutSeconds: s.timeoutSeconds, poolSize: s.poolSize };
}

export interface RelayOptions extends ConnectionSettings {
  host: string;
  port: number;
  security: Security;
  tlsVerify: boolean;
  auth?: { user: string; pass: string };
  /** OAuth2 (SASL XOAUTH2) instead of a password: the mailbox and where its access tokens come from. */
  oauth?: { user: string; tokens: AccessTokenSource };
}

/**
 * A relay's options: its address, TLS mode and login, with the settings' EHLO name, timeouts
 * and pool size. A relay that logs in with OAuth2 takes its access tokens from `tokens`.
 */
export function relayOptions(relay: DeliveryRelay, settings: ConnectionSettings, tokens?: AccessTokenSource): RelayOptions {
  if (relay.oauth && !tokens) throw new Error(`relay ${relay.key} logs in with OAuth2: its options need a token source`);
  return {
    ...settings,
    host: relay.host,
    port: relay.port,
    security: relay.security,
    tlsVerify: relay.tlsVerify,
    ...(relay.auth ? { auth: relay.auth } : {}),
    ...(relay.oauth && tokens ? { oauth: { user: relay.oauth.user, tokens } } : {}),
  };
}

/** nodemailer's connection options for a relay (address, TLS mode, EHLO name, timeouts). */
export function relayConnectionOptions(o: RelayOptions): SMTPConnectionOptions {
  const timeout = o.timeoutSeconds * 1000;
  const host = o.host.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: o.port,
    secure: o.security === 'tls',
    requireTLS: o.security === 'starttls',
    ignoreTLS: o.security === 'none',
    // No SNI for an address (RFC 6066 §3): the certificate is checked against the address itself.
    tls: { rejectUnauthorized: o.tlsVerify, ...(isIP(host) ? {} : { servername: host }) },
    name: o.heloName,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    logger: false,
  };
}

/** Direct delivery: the settings' EHLO name and timeouts, and the port of the recipients' mail servers (25 but in tests). */
export interface DirectOptions {
  heloName: string;
  timeoutSeconds: number;
  port?: number;
}

/** nodemailer's options for one mail server: opportunistic STARTTLS, no certificate check (as MTAs do); `servername` is the MX host name. */
export function directConnectionOptions(address: string, port: number, o: DirectOptions, servername?: string): SMTPTransport.Options {
  const timeout = o.timeoutSeconds * 1000;
  return {
    host: address,
    port,
    secure: false,
    opportunisticTLS: true,
    tls: { rejectUnauthorized: false, ...(servername && !isIP(servername) ? { servername } : {}) },
    name: o.heloName,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
    logger: false,
  } as SMTPTransport.Options;
}
