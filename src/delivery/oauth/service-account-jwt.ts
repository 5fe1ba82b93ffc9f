import { createSign } from 'node:crypto';

/** The fields of a Google service account JSON key that Postroom uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

export function parseServiceAccountKey(json: string): ServiceAccountKey {
  const k = JSON.parse(json) as Partial<ServiceAccountKey>;
  if (typeof k.client_email !== 'string' || typeof k.private_key !== 'string') throw new Error('the service account key has no client_email or private_key');
  return { client_email: k.client_email, private_key: k.private_key, ...(typeof k.private_key_id === 'string' ? { private_key_id: k.private_key_id } : {}) };
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

/**
 * The signed assertion of Google's service-account flow (RFC 7523; RS256 with node:crypto):
 * issued by the service account, for the mailbox it acts as (`sub`, domain-wide delegation),
 * for the given scope, to the token endpoint (`aud`), valid for one hour.
 */
export function serviceAccountJwt(key: ServiceAccountKey, opts: { sub: string; scope: string; aud: string; now?: number }): string {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = { iss: key.client_email, sub: opts.sub, scope: opts.scope, aud: opts.aud, iat, exp: iat + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key.private_key);
  return `${input}.${b64url(signature)}`;
}
