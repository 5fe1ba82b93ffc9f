import type { OAuthClientAuth } from '../../relays/relay.entity.js';
import type { ClientAuthMethod } from './client-auth.js';
import { OAuthError, TokenAnswer, TokenEndpointOptions, requestToken } from './token-endpoint.js';

/** The provider did not accept the client: how it authenticated may be what it objects to. */
const clientRefused = (err: unknown): boolean => err instanceof OAuthError && (err.error === 'invalid_client' || err.status === 401);

/**
 * Sends token requests with the client authentication of the setting. 'post' and 'basic' are
 * used as they are. 'auto' sends the secret in the body first — what Microsoft and Google take
 * and what Postroom always did, so existing set-ups make no extra request — and, when the
 * provider answers invalid_client (or 401), sends it once more as HTTP Basic, which RFC 6749
 * §2.3.1 obliges every server to support. The method that got past client authentication is
 * remembered (in memory) for that endpoint and client, and tried first next time.
 */
export class ClientAuthChoice {
  private learned?: { key: string; method: ClientAuthMethod };

  async request(url: string, params: Record<string, string>, setting: OAuthClientAuth, options: TokenEndpointOptions = {}): Promise<TokenAnswer> {
    if (setting !== 'auto' || params.client_secret === undefined) return requestToken(url, params, { ...options, clientAuth: setting === 'basic' ? 'basic' : 'post' });
    const key = `${url}\n${params.client_id ?? ''}`;
    const first: ClientAuthMethod = this.learned?.key === key ? this.learned.method : 'post';
    const second: ClientAuthMethod = first === 'post' ? 'basic' : 'post';
    try {
      return await this.attempt(key, first, url, params, options);
    } catch (err) {
      if (!clientRefused(err)) throw err;
      try {
        return await this.attempt(key, second, url, params, options);
      } catch (again) {
        // Refused both ways: the first answer says what is wrong (a wrong or expired secret).
        throw clientRefused(again) ? err : again;
      }
    }
  }

  /** One request; a method the provider authenticated with is remembered, even when the grant then failed. */
  private async attempt(key: string, method: ClientAuthMethod, url: string, params: Record<string, string>, options: TokenEndpointOptions): Promise<TokenAnswer> {
    try {
      const answer = await requestToken(url, params, { ...options, clientAuth: method });
      this.learned = { key, method };
      return answer;
    } catch (err) {
      if (err instanceof OAuthError && err.status !== null && !clientRefused(err)) this.learned = { key, method };
      throw err;
    }
  }
}
