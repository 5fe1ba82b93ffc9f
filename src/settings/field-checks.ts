import { hasLineBreak, isHostOrAddress, isHostname, isMailbox } from '../common/address.js';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from '../common/control-characters.js';

/** One rule a text setting must pass, and the reason given when it does not. */
export interface Check {
  test: (value: string) => boolean;
  message: string | ((value: string) => string);
}

/** A rule that a blank value passes (blank means "off" or "the default" there). */
export const blankOr = (check: Check): Check => ({ test: (v) => v === '' || check.test(v), message: check.message });

export const ONE_LINE: Check = { test: (v) => !hasLineBreak(v), message: 'must not contain line breaks' };
export const NO_CONTROL: Check = { test: (v) => !hasControlCharacter(v), message: CONTROL_CHARACTERS_REASON };

export const RELAY_HOST: Check = { test: isHostOrAddress, message: 'must be a host name or an IP address (blank for direct delivery)' };
export const HOST_NAME: Check = { test: isHostname, message: 'must be a host name such as mail.example.com (blank for the machine name)' };
export const MAILBOX = (example: string): Check => ({ test: isMailbox, message: `must be an email address such as ${example}` });
export const TENANT_ID: Check = {
  test: (v) => /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v),
  message: 'must be a directory (tenant) id such as 00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com',
};
export const TIME_OF_DAY: Check = { test: (v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v), message: 'must be a time such as 07:00 (24-hour clock, HH:MM)' };

/** A token endpoint: https, or plain http only on this machine (a local stub or proxy). */
export function isTokenUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** An http:// or https:// URL without line breaks (a ping URL). */
export const HTTP_URL: Check = {
  test: (v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !/\s/.test(v);
    } catch {
      return false;
    }
  },
  message: 'must be an http:// or https:// URL',
};

export const TOKEN_URL: Check = { test: isTokenUrl, message: 'must be an https:// URL (http:// only for 127.0.0.1 or localhost)' };

/** A Google service account's JSON key: an object with client_email and a PEM private_key. */
export function serviceAccountKeyProblem(value: string): string | undefined {
  let key: unknown;
  try {
    key = JSON.parse(value);
  } catch {
    return 'must be the JSON key file of a service account (it does not parse as JSON)';
  }
  const k = key as { client_email?: unknown; private_key?: unknown };
  if (!k || typeof k !== 'object' || typeof k.client_email !== 'string' || !k.client_email.includes('@')) return 'must be a service account JSON key with "client_email"';
  if (typeof k.private_key !== 'string' || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(k.private_key)) return 'must be a service account JSON key with a PEM "private_key"';
  return undefined;
}

export const SERVICE_ACCOUNT_KEY: Check = { test: (v) => serviceAccountKeyProblem(v) === undefined, message: (v) => serviceAccountKeyProblem(v) ?? 'is not valid' };
