import { createHash, randomBytes } from 'node:crypto';

/** A PKCE pair (RFC 7636, S256) and a random state for one authorization. */
export function newAuthorization(): { state: string; verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { state: randomBytes(24).toString('base64url'), verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
