import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import { AppConfig } from '../../config/config.schema.js';
import { EventLogService } from '../../events/event-log.service.js';
import type { SettingsEntity } from '../../settings/settings.entity.js';
import { RelaySecrets, SettingsService } from '../../settings/settings.service.js';
import { OAuthUrls, PROVIDER_NAMES, fingerprint, tokenRequest } from './providers.js';
import { TokenCache } from './token-cache.js';
import { OAuthError, TokenAnswer, TokenRequestInfo, requestToken } from './token-endpoint.js';

export const OAUTH_URLS = Symbol('OAUTH_URLS');

/** At most one "token request failed" event per this long while it keeps failing. */
const EVENT_EVERY_MS = 60_000;

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
 * Access tokens of the primary relay's OAuth2 login: fetched from the configured provider,
 * cached until shortly before they expire (TokenCache), dropped when the settings change.
 * A failure is remembered (the dashboard's warning), raised in the event log at most once a
 * minute with the provider's error, and cleared by the next success.
 */
@Injectable()
export class OAuthTokenService {
  private cache?: { key: string; tokens: TokenCache };
  private failure?: OAuthStatus;
  private lastEventAt = 0;

  constructor(
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
    @Inject(OAUTH_URLS) readonly urls: OAuthUrls,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A fresh access token for the saved settings; `force` when the relay refused the last one. */
  async token(force = false): Promise<string> {
    const s = await this.settings.get();
    const key = fingerprint(s, [s.oauthClientSecretSealed, s.oauthRefreshTokenSealed, s.oauthServiceAccountKeySealed], this.urls);
    if (this.cache?.key !== key) this.cache = { key, tokens: new TokenCache(() => this.fetchForSaved()) };
    return this.cache.tokens.get(force);
  }

  /** The current failure, or undefined when the last token request worked (or none was made). */
  status(): OAuthStatus | undefined {
    return this.failure;
  }

  /**
   * One token request for the given settings, not cached and not recorded (the test email,
   * which may test unsaved values). Throws OAuthError.
   */
  async requestOnce(s: SettingsEntity, secrets: RelaySecrets): Promise<{ answer: TokenAnswer; request: TokenRequestInfo }> {
    const req = tokenRequest(s, secrets, this.urls);
    return { answer: await requestToken(req.info.url, req.params, { timeoutMs: s.timeoutSeconds * 1000 }), request: req.info };
  }

  private async fetchForSaved(): Promise<TokenAnswer> {
    const s = await this.settings.get();
    try {
      const req = tokenRequest(s, await this.settings.secrets(), this.urls);
      const answer = await requestToken(req.info.url, req.params, { timeoutMs: s.timeoutSeconds * 1000 });
      await this.succeeded(s, req.info);
      return answer;
    } catch (err) {
      const e = err instanceof OAuthError ? err : new OAuthError('request_failed', (err as Error).message, { url: '', grantType: '' }, null);
      await this.failed(s, e);
      throw e;
    }
  }

  private async succeeded(s: SettingsEntity, request: TokenRequestInfo): Promise<void> {
    if (!this.failure) return;
    const was = this.failure;
    this.failure = undefined;
    this.lastEventAt = 0;
    await this.events.recordSafely({
      level: 'info',
      source: 'delivery',
      message: `OAuth2 token from ${PROVIDER_NAMES[s.oauthProvider]} obtained again (failing since ${was.since})`,
      details: { provider: s.oauthProvider, url: request.url, grantType: request.grantType, instance: this.config.instanceName },
    });
  }

  private async failed(s: SettingsEntity, e: OAuthError): Promise<void> {
    const now = new Date();
    this.failure = {
      provider: PROVIDER_NAMES[s.oauthProvider],
      error: e.error,
      description: e.description,
      url: e.request.url,
      since: this.failure?.since ?? now.toISOString(),
      lastAt: now.toISOString(),
    };
    if (now.getTime() - this.lastEventAt < EVENT_EVERY_MS) return;
    this.lastEventAt = now.getTime();
    await this.events.recordSafely({
      level: 'error',
      source: 'delivery',
      message: `OAuth2 token request to ${PROVIDER_NAMES[s.oauthProvider]} failed (${e.error})${e.description ? `: ${e.description}` : ''}; mail to the relay is deferred`,
      details: { provider: s.oauthProvider, error: e.error, description: e.description, status: e.status, url: e.request.url, grantType: e.request.grantType, instance: this.config.instanceName },
    });
  }
}
