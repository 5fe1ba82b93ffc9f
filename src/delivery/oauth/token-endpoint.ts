import { type ClientAuthMethod, authenticateClient } from './client-auth.js';

/** The answer of a token endpoint that gave a token. */
export interface TokenAnswer {
  accessToken: string;
  /** Seconds the token is valid for (the endpoint's expires_in; 3600 when it gives none). */
  expiresIn: number;
  refreshToken?: string;
  status: number;
}

/** What a token request was, for transcripts and events: never a secret. */
export interface TokenRequestInfo {
  url: string;
  grantType: string;
  /** How the client secret went, when there was one. */
  clientAuth?: ClientAuthMethod;
}

/**
 * A token request that failed: the provider's `error` (invalid_client, invalid_grant…) and the
 * first line of its `error_description`, or what went wrong on the way (timeout, no connection).
 */
export class OAuthError extends Error {
  readonly code = 'EOAUTH2';
  constructor(
    /** The provider's error code, or 'request_failed' / 'timeout' / 'invalid_response' of our own. */
    readonly error: string,
    readonly description: string,
    readonly request: TokenRequestInfo,
    readonly status: number | null,
  ) {
    super(`OAuth2 token request failed: ${error}${description ? `: ${description}` : ''}`);
    this.name = 'OAuthError';
  }

  /** The provider's answer in one line: "invalid_client: AADSTS7000215: Invalid client secret provided." */
  get reply(): string {
    return `${this.error}${this.description ? `: ${this.description}` : ''}`;
  }
}

export interface TokenEndpointOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Where the client secret goes: the body (the default) or HTTP Basic. */
  clientAuth?: ClientAuthMethod;
}

const firstLine = (v: unknown): string =>
  typeof v === 'string' ? (v.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim().slice(0, 500) : '';

/**
 * POSTs a form-encoded token request (RFC 6749 §4) and reads the JSON answer. Secrets go in
 * the body or the Authorization header (client_secret_basic) only; nothing here logs. Throws
 * OAuthError for any failure.
 */
export async function requestToken(url: string, params: Record<string, string>, options: TokenEndpointOptions = {}): Promise<TokenAnswer> {
  const clientAuth = options.clientAuth ?? 'post';
  const request: TokenRequestInfo = { url, grantType: params.grant_type ?? '', ...(params.client_secret !== undefined ? { clientAuth } : {}) };
  const sent = authenticateClient(params, clientAuth);
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(sent.authorization ? { authorization: sent.authorization } : {}) },
      body: new URLSearchParams(sent.params).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new OAuthError('timeout', `no answer from ${new URL(url).host} within ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s`, request, null);
    throw new OAuthError('request_failed', firstLine(e.cause?.code ? `${e.cause.code}: ${e.cause.message ?? e.message}` : e.message), request, null);
  }
  const text = await res.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status says what happened
  }
  if (!res.ok || typeof body.access_token !== 'string' || body.access_token === '') {
    const error = typeof body.error === 'string' && body.error ? firstLine(body.error) : res.ok ? 'invalid_response' : `http_${res.status}`;
    const description = firstLine(body.error_description) || (res.ok ? 'the answer has no access_token' : firstLine(text.slice(0, 200)));
    throw new OAuthError(error, description, request, res.status);
  }
  const expires = Number(body.expires_in);
  return {
    accessToken: body.access_token,
    expiresIn: Number.isFinite(expires) && expires > 0 ? expires : 3600,
    ...(typeof body.refresh_token === 'string' && body.refresh_token ? { refreshToken: body.refresh_token } : {}),
    status: res.status,
  };
}
