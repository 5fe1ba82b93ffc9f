import { DEFAULT_OAUTH_URLS, MICROSOFT_LOGIN_BASE, OAuthUrls } from '../../config/oauth-urls.js';
import type { RelaySecrets } from '../../relays/relay-secrets.js';
import type { OAuthProvider, RelayEntity } from '../../relays/relay.entity.js';
import { parseServiceAccountKey, serviceAccountJwt } from './service-account-jwt.js';
import { OAuthError, TokenRequestInfo } from './token-endpoint.js';

export const MICROSOFT_SCOPE = 'https://outlook.office365.com/.default';
export const GOOGLE_SCOPE = 'https://mail.google.com/';

/** The v2.0 token endpoint of a Microsoft Entra tenant. */
export function microsoftTokenUrl(tenantId: string, base = MICROSOFT_LOGIN_BASE): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(tenantId.trim())}/oauth2/v2.0/token`;
}

/** A token request ready to send: where, the form parameters (with secrets) and what to show. */
export interface TokenRequest {
  info: TokenRequestInfo;
  params: Record<string, string>;
}

export const PROVIDER_NAMES: Record<OAuthProvider, string> = {
  microsoft: 'Microsoft 365',
  google: 'Google',
  'google-service-account': 'Google service account',
  generic: 'OAuth2 provider',
};

/** A relay's OAuth2 login: the provider and its fields, and the mailbox (username). */
export type OAuthLogin = Pick<RelayEntity, 'oauthProvider' | 'oauthTenantId' | 'oauthClientId' | 'oauthTokenUrl' | 'oauthScope' | 'username'>;

/**
 * The token request of the configured provider:
 * - microsoft: client credentials at the tenant's v2.0 endpoint, scope outlook.office365.com/.default;
 * - google: refresh-token grant at Google's token endpoint;
 * - google-service-account: a JWT bearer assertion (sub = the mailbox, scope mail.google.com);
 * - generic: a refresh-token grant when a refresh token is stored, else client credentials,
 *   at the configured URL and scope.
 * A missing piece is an OAuthError ('not_configured'), so it defers mail like any token failure.
 */
export function tokenRequest(s: OAuthLogin, secrets: RelaySecrets, urls: OAuthUrls = DEFAULT_OAUTH_URLS, now?: number): TokenRequest {
  const missing = (what: string, url: string, grantType: string): never => {
    throw new OAuthError('not_configured', what, { url, grantType }, null);
  };
  switch (s.oauthProvider) {
    case 'microsoft': {
      const url = microsoftTokenUrl(s.oauthTenantId || 'organizations', urls.microsoftLoginBase);
      if (!s.oauthTenantId || !s.oauthClientId || !secrets.oauthClientSecret) missing('Microsoft 365 needs the tenant id, the client id and a client secret', url, 'client_credentials');
      return {
        info: { url, grantType: 'client_credentials' },
        params: { grant_type: 'client_credentials', client_id: s.oauthClientId, client_secret: secrets.oauthClientSecret!, scope: MICROSOFT_SCOPE },
      };
    }
    case 'google': {
      const url = urls.googleTokenUrl;
      if (!s.oauthClientId || !secrets.oauthClientSecret) missing('Google needs the OAuth client id and client secret', url, 'refresh_token');
      if (!secrets.oauthRefreshToken) missing('no refresh token yet: press "Authorize with Google" on the settings page', url, 'refresh_token');
      return {
        info: { url, grantType: 'refresh_token' },
        params: { grant_type: 'refresh_token', client_id: s.oauthClientId, client_secret: secrets.oauthClientSecret!, refresh_token: secrets.oauthRefreshToken! },
      };
    }
    case 'google-service-account': {
      const url = urls.googleTokenUrl;
      const grantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
      if (!secrets.oauthServiceAccountKey) missing('a Google service account needs its JSON key', url, grantType);
      if (!s.username) missing('the mailbox to send as (username) is not set', url, grantType);
      let assertion: string;
      try {
        assertion = serviceAccountJwt(parseServiceAccountKey(secrets.oauthServiceAccountKey!), { sub: s.username, scope: GOOGLE_SCOPE, aud: url, now });
      } catch (err) {
        throw new OAuthError('invalid_key', `the service account key cannot sign: ${(err as Error).message.split('\n')[0]}`, { url, grantType }, null);
      }
      return { info: { url, grantType }, params: { grant_type: grantType, assertion } };
    }
    case 'generic': {
      const url = s.oauthTokenUrl;
      const grantType = secrets.oauthRefreshToken ? 'refresh_token' : 'client_credentials';
      if (!url || !s.oauthClientId) missing('a generic provider needs the token URL and the client id', url, grantType);
      const params: Record<string, string> = { grant_type: grantType, client_id: s.oauthClientId };
      if (secrets.oauthClientSecret) params.client_secret = secrets.oauthClientSecret;
      if (secrets.oauthRefreshToken) params.refresh_token = secrets.oauthRefreshToken;
      if (s.oauthScope) params.scope = s.oauthScope;
      return { info: { url, grantType }, params };
    }
  }
}

/** The values whose change makes a cached token worthless. */
export function fingerprint(s: OAuthLogin, sealed: (string | null)[], urls: OAuthUrls): string {
  return JSON.stringify([s.oauthProvider, s.oauthTenantId, s.oauthClientId, s.oauthTokenUrl, s.oauthScope, s.username, sealed, urls]);
}
