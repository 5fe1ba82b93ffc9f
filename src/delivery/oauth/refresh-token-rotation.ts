import type { PrimaryRelayService } from '../../relays/primary-relay.service.js';
import type { TokenAnswer, TokenRequestInfo } from './token-endpoint.js';

/** A token request's outcome as the rotation needs it: the answer, and which grant it was. */
export interface TokenExchange {
  answer: TokenAnswer;
  request: TokenRequestInfo;
}

/**
 * Refresh tokens that the provider rotates (RFC 6749 §6: the answer to a refresh may carry a
 * new refresh token, and the old one may stop working at once).
 *
 * Requests that use the stored refresh token run one at a time, each with the token the one
 * before it left: two refreshes at once with the old token would get one `invalid_grant` (or,
 * with providers that detect reuse, lose the whole grant). A new refresh token in a
 * refresh-token grant's answer is stored sealed in the primary relay's row, only while the one it
 * replaces is still stored (a token entered meanwhile wins); its NOTIFY makes every instance
 * read the new one for its next refresh. If it cannot be stored (database unreachable), it is
 * kept in memory and used, and storing is tried again at the next refresh: the old one is
 * already spent.
 */
export class RefreshTokenRotation {
  private queue: Promise<unknown> = Promise.resolve();
  private unstored?: { token: string; replaces: string | null };

  constructor(private readonly primary: Pick<PrimaryRelayService, 'get' | 'openSecrets' | 'storeOAuthRefreshToken'>) {}

  /**
   * Runs `exchange` with the current refresh token (undefined when none is stored), after any
   * other exchange in progress, and keeps the refresh token its answer rotates to. `provider`
   * names the provider in the event.
   */
  run<T extends TokenExchange>(provider: string, exchange: (refreshToken: string | undefined) => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => this.exchange(provider, exchange));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async exchange<T extends TokenExchange>(provider: string, exchange: (refreshToken: string | undefined) => Promise<T>): Promise<T> {
    await this.storeUnstored(provider);
    const replaces = this.unstored?.replaces ?? (await this.primary.get()).oauthRefreshTokenSealed;
    const current = this.unstored?.token ?? (await this.primary.openSecrets()).secrets.oauthRefreshToken;
    const result = await exchange(current);
    const next = result.answer.refreshToken;
    if (result.request.grantType === 'refresh_token' && next && next !== current) await this.keep(provider, next, replaces);
    return result;
  }

  /** A rotated token not stored before: stored now while the one it replaces is still stored, else dropped (another was entered). */
  private async storeUnstored(provider: string): Promise<void> {
    const unstored = this.unstored;
    if (!unstored) return;
    if ((await this.primary.get()).oauthRefreshTokenSealed !== unstored.replaces) this.unstored = undefined;
    else await this.keep(provider, unstored.token, unstored.replaces);
  }

  private async keep(provider: string, token: string, replaces: string | null): Promise<void> {
    try {
      // Not stored when another token was entered meanwhile: that one wins, and this one is forgotten.
      await this.primary.storeOAuthRefreshToken(token, 'postroom', `rotated by ${provider} at a token refresh`, replaces);
      this.unstored = undefined;
    } catch {
      this.unstored = { token, replaces };
    }
  }
}
