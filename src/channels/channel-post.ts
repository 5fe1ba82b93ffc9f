import type { ChannelRequest } from './channel-request.js';

/** What a channel's service answered, as delivery and the channel test use it. */
export interface ChannelReply {
  /** 2xx: sent; 408, 429, 5xx and network failures: deferred (tried again); other answers: bounced. */
  status: 'sent' | 'deferred' | 'bounced';
  /** How far it got: the connection, or the service's answer. */
  step: 'connect' | 'response';
  /** The HTTP status, null when there was no answer. */
  code: number | null;
  /** One line for the mail log: "HTTP 503 Service Unavailable: <excerpt of the body>", or the network error. */
  reply: string;
  /** The service's Retry-After, in milliseconds, when it gave one. */
  retryAfterMs?: number;
  ms: number;
}

/** At most this much of an answer's body is read, and this much of it is shown. */
const READ_BYTES = 16 * 1024;
const EXCERPT_CHARS = 300;

/**
 * Posts one request and says what came of it, never throwing. Redirects are not followed (a
 * POST redirected is a wrong URL, and a secret URL must not be sent on); the reply never
 * repeats the URL, which may be the secret itself, nor any other of the channel's secrets.
 */
export async function postToChannel(req: ChannelRequest, timeoutMs: number, now: () => number = Date.now): Promise<ChannelReply> {
  const started = now();
  const ms = () => now() - started;
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { status: 'deferred', step: 'connect', code: null, reply: networkReason(err, timeoutMs), ms: ms() };
  }
  const excerpt = await bodyExcerpt(res, req.secrets ?? []);
  const code = res.status;
  const line = `HTTP ${code}${res.statusText ? ` ${res.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`;
  if (code >= 200 && code < 300) return { status: 'sent', step: 'response', code, reply: line, ms: ms() };
  const retryAfterMs = retryAfter(res.headers.get('retry-after'), Date.now());
  const temporary = code === 408 || code === 429 || code >= 500;
  const redirected = code >= 300 && code < 400 ? `${line} (redirects are not followed: use the URL it points to)` : line;
  return { status: temporary ? 'deferred' : 'bounced', step: 'response', code, reply: redirected, ms: ms(), ...(temporary && retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** A reply's excerpt with every secret of the channel (the longest first) put as "…": it goes to the mail log, events and pages. */
export function withoutSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) out = out.split(form).join('…');
  }
  return out;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now (RFC 9110 §10.2.3). */
export function retryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The start of the body on one line, without the channel's secrets (taken out before it is cut, so none shows in part). */
async function bodyExcerpt(res: Response, secrets: readonly string[]): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // What arrived is enough for an excerpt.
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const text = withoutSecrets(Buffer.concat(chunks).toString('utf8'), secrets);
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f\s]+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** A network failure in words, without the URL: the cause's code and message (connection refused, DNS, TLS, timeout). */
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = e.cause;
  if (cause?.message) return `${cause.code ? `${cause.code}: ` : ''}${cause.message}`.slice(0, 500);
  return 'the request failed before an answer';
}
