import { createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OAUTH_URLS, GOOGLE_TOKEN_URL } from '../../src/config/oauth-urls.js';
import { MICROSOFT_SCOPE, microsoftTokenUrl, tokenRequest } from '../../src/delivery/oauth/providers.js';
import { newAuthorization, pkceChallenge } from '../../src/delivery/oauth/pkce.js';
import { parseServiceAccountKey, serviceAccountJwt } from '../../src/delivery/oauth/service-account-jwt.js';
import { OAuthError } from '../../src/delivery/oauth/token-endpoint.js';
import { settingsInputSchema } from '../../src/settings/dto/settings-input.js';
import { isTokenUrl, serviceAccountKeyProblem } from '../../src/settings/field-checks.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const keyJson = JSON.stringify({ type: 'service_account', client_email: 'postroom@project.iam.gserviceaccount.com', private_key: pem, private_key_id: 'kid-1' });

const base = { oauthTenantId: '', oauthClientId: '', oauthTokenUrl: '', oauthScope: '', username: 'nas@example.com' };

describe('provider endpoints', () => {
  it('builds the Microsoft v2.0 token URL of a tenant', () => {
    expect(microsoftTokenUrl('contoso.onmicrosoft.com')).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(microsoftTokenUrl('00000000-0000-0000-0000-000000000001', 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token');
  });

  it('Microsoft: client credentials with the Exchange .default scope', () => {
    const r = tokenRequest({ ...base, oauthProvider: 'microsoft', oauthTenantId: 'tid', oauthClientId: 'cid' }, { oauthClientSecret: 's3cret' });
    expect(r.info).toEqual({ url: 'https://login.microsoftonline.com/tid/oauth2/v2.0/token', grantType: 'client_credentials' });
    expect(r.params).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 's3cret', scope: MICROSOFT_SCOPE });
    expect(MICROSOFT_SCOPE).toBe('https://outlook.office365.com/.default');
  });

  it('Google: the refresh-token grant at Google; without a refresh token it says to authorize', () => {
    const s = { ...base, oauthProvider: 'google' as const, oauthClientId: 'gid' };
    const r = tokenRequest(s, { oauthClientSecret: 'gs', oauthRefreshToken: 'rt' });
    expect(r.info).toEqual({ url: GOOGLE_TOKEN_URL, grantType: 'refresh_token' });
    expect(r.params).toEqual({ grant_type: 'refresh_token', client_id: 'gid', client_secret: 'gs', refresh_token: 'rt' });
    expect(() => tokenRequest(s, { oauthClientSecret: 'gs' })).toThrow(/Authorize with Google/);
    try {
      tokenRequest(s, { oauthClientSecret: 'gs' });
    } catch (e) {
      expect(e).toBeInstanceOf(OAuthError);
      expect((e as OAuthError).error).toBe('not_configured');
    }
  });

  it('generic: client credentials, or the refresh-token grant when a refresh token is stored', () => {
    const s = { ...base, oauthProvider: 'generic' as const, oauthClientId: 'c', oauthTokenUrl: 'http://127.0.0.1:1/token', oauthScope: 'smtp' };
    expect(tokenRequest(s, { oauthClientSecret: 'x' }).params).toEqual({ grant_type: 'client_credentials', client_id: 'c', client_secret: 'x', scope: 'smtp' });
    expect(tokenRequest(s, { oauthRefreshToken: 'r' }).params).toEqual({ grant_type: 'refresh_token', client_id: 'c', refresh_token: 'r', scope: 'smtp' });
  });

  it('Google service account: a JWT bearer assertion for the mailbox', () => {
    const r = tokenRequest({ ...base, oauthProvider: 'google-service-account' }, { oauthServiceAccountKey: keyJson }, DEFAULT_OAUTH_URLS, Date.UTC(2026, 0, 1));
    expect(r.info.grantType).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = JSON.parse(Buffer.from(r.params.assertion!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'nas@example.com', scope: 'https://mail.google.com/', aud: GOOGLE_TOKEN_URL });
  });
});

describe('service account JWT', () => {
  it('is RS256, signed by the key (verified with the public key), with sub = the mailbox and a one-hour life', () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const jwt = serviceAccountJwt(parseServiceAccountKey(keyJson), { sub: 'alerts@example.com', scope: 'https://mail.google.com/', aud: 'https://oauth2.googleapis.com/token', now });
    const [h, c, sig] = jwt.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-1' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'postroom@project.iam.gserviceaccount.com',
      sub: 'alerts@example.com',
      scope: 'https://mail.google.com/',
      aud: 'https://oauth2.googleapis.com/token',
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
    const pub = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(pub, Buffer.from(sig, 'base64url'))).toBe(true);
    expect(createVerify('RSA-SHA256').update(`${h}.${c}x`).verify(pub, Buffer.from(sig, 'base64url'))).toBe(false);
  });
});

describe('PKCE', () => {
  it('S256 challenge of the RFC 7636 example, and random state and verifier', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const a = newAuthorization();
    const b = newAuthorization();
    expect(a.state).not.toBe(b.state);
    expect(a.verifier.length).toBeGreaterThanOrEqual(43);
    expect(a.challenge).toBe(pkceChallenge(a.verifier));
  });
});

describe('OAuth settings validation', () => {
  it('token URL: https, or http only for loopback', () => {
    expect(isTokenUrl('https://login.example.com/token')).toBe(true);
    expect(isTokenUrl('http://127.0.0.1:8080/token')).toBe(true);
    expect(isTokenUrl('http://localhost/token')).toBe(true);
    expect(isTokenUrl('http://login.example.com/token')).toBe(false);
    expect(isTokenUrl('ftp://x/')).toBe(false);
    expect(isTokenUrl('not a url')).toBe(false);
  });

  it('service account key: JSON with client_email and a PEM private_key', () => {
    expect(serviceAccountKeyProblem(keyJson)).toBeUndefined();
    expect(serviceAccountKeyProblem('{')).toMatch(/JSON/);
    expect(serviceAccountKeyProblem('{"private_key":"x"}')).toMatch(/client_email/);
    expect(serviceAccountKeyProblem('{"client_email":"a@b","private_key":"x"}')).toMatch(/private_key/);
  });

  it('names each bad OAuth field', () => {
    const r = settingsInputSchema.safeParse({ authMethod: 'token', oauthProvider: 'yahoo', oauthTokenUrl: 'http://example.com/t', oauthServiceAccountKey: '{}', oauthTenantId: 'a b', oauthClientSecret: 5 });
    expect(r.success).toBe(false);
    const fields = r.success ? [] : r.error.issues.map((i) => String(i.path[0])).sort();
    expect(fields).toEqual(['authMethod', 'oauthClientSecret', 'oauthProvider', 'oauthServiceAccountKey', 'oauthTenantId', 'oauthTokenUrl']);
  });
});
