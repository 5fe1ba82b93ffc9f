import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';

/** How long a call may take, connection included. */
const TIMEOUT_MS = 30_000;

/**
 * The CLI talks to the running Postroom through its JSON API, like Postfix's postqueue talks to the
 * queue manager. On node:http rather than fetch: loading undici for a single request more than
 * doubled a command's start-up time and memory.
 */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** A call whose answer is JSON: the parsed body, or an ApiError with the server's reason. */
  async request<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
    const text = await this.call(method, urlPath, body === undefined ? undefined : JSON.stringify(body));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A GET whose answer is text (such as a report's ?format=text), as the server wrote it. */
  text(urlPath: string): Promise<string> {
    return this.call('GET', urlPath);
  }

  private async call(method: string, urlPath: string, payload?: string): Promise<string> {
    let res: IncomingMessage;
    let text: string;
    try {
      const url = new URL(this.baseUrl + urlPath);
      // Loaded on the first call, so --help does without it; TLS only when POSTROOM_URL asks for https.
      const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
      ({ res, text } = await new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
        const req = send(url, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        req.on('error', reject);
        req.on('response', (r: IncomingMessage) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('error', reject);
          r.on('end', () => resolve({ res: r, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.end(payload);
      }));
    } catch (err) {
      throw new UnreachableError(`cannot reach Postroom at ${this.baseUrl}: ${String(err)}`);
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      // Refusals are JSON whatever was asked for: a message, and a reason per field.
      const d = (/json/.test(res.headers['content-type'] ?? '') && text ? JSON.parse(text) : undefined) as { message?: string; fields?: Record<string, string> } | undefined;
      const fields = d?.fields ? ' (' + Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join('; ') + ')' : '';
      throw new ApiError(status, `${d?.message ?? res.statusMessage}${fields}`);
    }
    return text;
  }
}

export class UnreachableError extends Error {}
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** API_TOKEN from the environment, else the local token Postroom writes to DATA_DIR/cli.token. */
export function cliToken(apiToken: string | undefined, dataDir: string): string {
  if (apiToken) return apiToken;
  const file = path.join(dataDir, 'cli.token');
  try {
    // Sync: node:fs is loaded already (the configuration file); fs/promises would be one more module.
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new UnreachableError(`no API token: set API_TOKEN, or run as a user who can read ${file} (Postroom writes it on start)`);
  }
}
