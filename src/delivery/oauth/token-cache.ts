/** A token and when it stops being used. */
interface Cached {
  token: string;
  /** When to fetch a new one: ahead of the real expiry. */
  refreshAt: number;
}

/** Refresh this long before expires_in runs out (5 minutes)… */
export const REFRESH_AHEAD_MS = 5 * 60_000;

/**
 * When a token that lives `expiresInSeconds` from `obtainedAt` should be replaced: 5 minutes
 * before it expires, but for short-lived tokens (under 10 minutes) at half their life.
 */
export function refreshAt(obtainedAt: number, expiresInSeconds: number): number {
  const life = Math.max(0, expiresInSeconds * 1000);
  return obtainedAt + (life > 2 * REFRESH_AHEAD_MS ? life - REFRESH_AHEAD_MS : life / 2);
}

/**
 * Holds one access token and refreshes it ahead of expiry. Concurrent callers that find it
 * stale share one request; a failed request is not cached (the next caller tries again).
 */
export class TokenCache {
  private cached?: Cached;
  private inFlight?: Promise<string>;

  constructor(
    private readonly fetchToken: () => Promise<{ accessToken: string; expiresIn: number }>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A token valid for a while yet; `force` fetches a new one (the server refused the cached one). */
  get(force = false): Promise<string> {
    if (!force && this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    if (this.inFlight) return this.inFlight;
    const started = this.now();
    const p = this.fetchToken().then(
      (t) => {
        this.cached = { token: t.accessToken, refreshAt: refreshAt(started, t.expiresIn) };
        this.inFlight = undefined;
        return t.accessToken;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        throw err;
      },
    );
    this.inFlight = p;
    return p;
  }

  /** Drops the token (e.g. the settings changed). */
  clear(): void {
    this.cached = undefined;
  }

  /** Whether a token is held that is still fresh. */
  get fresh(): boolean {
    return !!this.cached && this.now() < this.cached.refreshAt;
  }
}
