import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import { AppConfig } from '../../config/config.schema.js';
import { EventLogService } from '../../events/event-log.service.js';
import type { OAuthUrls } from '../../config/oauth-urls.js';
import { PrimaryRelayService } from '../../relays/primary-relay.service.js';
import type { RelaySecrets } from '../../relays/relay-secrets.js';
import type { RelayEntity } from '../../relays/relay.entity.js';
import { SettingsService } from '../../settings/settings.service.js';
import { ClientAuthChoice } from './client-auth-choice.js';
import { OAuthLogin, PROVIDER_NAMES, fingerprint, tokenRequest } from './providers.js';
import { RefreshTokenRotation, TokenExchange } from './refresh-token-rotation.js';
import { TokenCache } from './token-cache.js';
import { OAuthError, TokenAnswer, TokenRequestInfo } from './token-endpoint.js';

export const OAUTH_URLS = Symbol('OAUTH_URLS');

/** A login's token requests: the provider's fields, and how the client authenticates. */
type TokenLogin = OAuthLogin & Pick<RelayEntity, 'oauthClientAuth'>;

/** The state the dashboard shows: set from a failed token request until the next success. */
export interface OAuthStatus {
  provider: string;
  error: string;
  description: string;
  url: string;
  since: string;
  lastAt: string;
}

/**
 * Access tokens of the primary relay's OAuth2 login (only the relay of priority 0 may have one):
 * fetched from the configured provider, cached until shortly before they expire (TokenCache),
 * dropped when the login changes.
 * Requests with the stored refresh token go one at a time and keep the one the provider
 * rotates to (RefreshTokenRotation); the client authenticates as the setting says
 * (ClientAuthChoice). A failure is remembered (the dashboard's warning), raised in the event
 * log once per failure episode (again only when the provider's error changes), and cleared by
 * the next success, which raises one event too.
 */
@Injectable()
export class OAuthTokenService {
  private cache?: { key: string; tokens: TokenCache };
  private failure?: OAuthStatus;
  private readonly clientAuth = new ClientAuthChoice();
  private readonly rotation: RefreshTokenRotation;

  constructor(
    private readonly primary: PrimaryRelayService,
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
    @Inject(OAUTH_URLS) readonly urls: OAuthUrls,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.rotation = new RefreshTokenRotation(primary);
  }

  /** A fresh access token for the saved login; `force` when the relay refused the last one. */
  async token(force = false): Promise<string> {
    const r = await this.primary.get();
    // Not the refresh token: a new one leaves the access token valid, and one rotated at a
    // refresh (here or by another instance) must not make every instance refresh again.
    const key = fingerprint(r, [r.oauthClientSecretSealed, r.oauthServiceAccountKeySealed], this.urls);
    if (this.cache?.key !== key) this.cache = { key, tokens: new TokenCache(() => this.fetchForSaved()) };
    return this.cache.tokens.get(force);
  }

  /** The current failure, or undefined when the last token request worked (or none was made). */
  status(): OAuthStatus | undefined {
    return this.failure;
  }

  /**
   * One token request for the given login, not cached and not recorded (the test email, which
   * may test unsaved values). With the stored refresh token it waits its turn behind delivery's
   * refreshes and keeps a rotated one; a refresh token typed for the test is not stored. Throws
   * OAuthError.
   */
  async requestOnce(login: TokenLogin, secrets: RelaySecrets, timeoutSeconds: number): Promise<TokenExchange> {
    const given = secrets.oauthRefreshToken;
    if (given === undefined || given !== (await this.primary.openSecrets()).secrets.oauthRefreshToken) return this.exchange(login, secrets, timeoutSeconds);
    return this.rotation.run(PROVIDER_NAMES[login.oauthProvider], (refreshToken) => this.exchange(login, { ...secrets, oauthRefreshToken: refreshToken }, timeoutSeconds));
  }

  /** One token request: the provider's request for this login, the client authenticated as it says. */
  private async exchange(login: TokenLogin, secrets: RelaySecrets, timeoutSeconds: number): Promise<TokenExchange> {
    const req = tokenRequest(login, secrets, this.urls);
    const answer = await this.clientAuth.request(req.info.url, req.params, login.oauthClientAuth, { timeoutMs: timeoutSeconds * 1000 });
    return { answer, request: req.info };
  }

  private async fetchForSaved(): Promise<TokenAnswer> {
    let r = await this.primary.get();
    try {
      const { answer, request } = await this.rotation.run(PROVIDER_NAMES[r.oauthProvider], async (refreshToken) => {
        // After waiting its turn: the login as it is now.
        r = await this.primary.get();
        const { secrets } = await this.primary.openSecrets();
        return this.exchange(r, { ...secrets, oauthRefreshToken: refreshToken }, (await this.settings.get()).timeoutSeconds);
      });
      await this.succeeded(r, request);
      return answer;
    } catch (err) {
      const e = err instanceof OAuthError ? err : new OAuthError('request_failed', (err as Error).message, { url: '', grantType: '' }, null);
      await this.failed(r, e);
      throw e;
    }
  }

  private async succeeded(s: OAuthLogin, request: TokenRequestInfo): Promise<void> {
    if (!this.failure) return;
    const was = this.failure;
    this.failure = undefined;
    await this.events.recordSafely({
      level: 'info',
      source: 'delivery',
      message: `OAuth2 token from ${PROVIDER_NAMES[s.oauthProvider]} obtained again (failing since ${was.since})`,
      details: { provider: s.oauthProvider, url: request.url, grantType: request.grantType, instance: this.config.instanceName },
    });
  }

  /** One event per failure episode: when it starts, and when the provider's error changes within it. */
  private async failed(s: OAuthLogin, e: OAuthError): Promise<void> {
    const now = new Date();
    const announce = this.failure?.error !== e.error;
    this.failure = {
      provider: PROVIDER_NAMES[s.oauthProvider],
      error: e.error,
      description: e.description,
      url: e.request.url,
      since: this.failure?.since ?? now.toISOString(),
      lastAt: now.toISOString(),
    };
    if (!announce) return;
    await this.events.recordSafely({
      level: 'error',
      source: 'delivery',
      message: `OAuth2 token request to ${PROVIDER_NAMES[s.oauthProvider]} failed (${e.error})${e.description ? `: ${e.description}` : ''}; mail to the relay is deferred`,
      details: {
        provider: s.oauthProvider,
        error: e.error,
        description: e.description,
        status: e.status,
        url: e.request.url,
        grantType: e.request.grantType,
        ...(e.request.clientAuth ? { clientAuth: e.request.clientAuth } : {}),
        instance: this.config.instanceName,
      },
    });
  }
}
