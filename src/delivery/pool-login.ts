import type { SMTPConnectionAuth } from 'nodemailer/lib/smtp-connection/index.js';
import XOAuth2 from 'nodemailer/lib/xoauth2/index.js';
import type { PoolLogin } from './smtp-thread.protocol.js';

/** Where an XOAUTH2 login gets its access token: `renew` when the server refused the last one. */
export type TokenProvider = (renew: boolean) => Promise<string>;

/** The tokens as nodemailer's provisionCallback: a fresh token, renewed when the server refused the last. */
export function provisionCallback(tokens: TokenProvider) {
  return (_user: string, renew: boolean, done: (err: Error | null, token?: string) => void): void => {
    tokens(renew).then(
      (token) => done(null, token),
      (err: unknown) => done(err as Error),
    );
  };
}

/** nodemailer's login for a pooled connection: SASL with the password, or XOAUTH2 with tokens from `tokens`. */
export function poolAuth(login: PoolLogin | undefined, tokens: TokenProvider): SMTPConnectionAuth | undefined {
  if (!login) return undefined;
  if ('pass' in login) return { user: login.user, credentials: { user: login.user, pass: login.pass } };
  return { user: login.user, method: 'XOAUTH2', oauth2: new XOAuth2({ user: login.user, provisionCallback: provisionCallback(tokens) }) };
}
