import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The CLI talks to the running Postroom through its JSON API, like Postfix's postqueue talks to the queue manager. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + urlPath, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new UnreachableError(`cannot reach Postroom at ${this.baseUrl}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`);
    }
    const text = await res.text();
    const data = text ? (JSON.parse(text) as T & { message?: string; fields?: Record<string, string> }) : (undefined as T);
    if (!res.ok) {
      const d = data as { message?: string; fields?: Record<string, string> } | undefined;
      const fields = d?.fields ? ' (' + Object.entries(d.fields).map(([k, v]) => `${k}: ${v}`).join('; ') + ')' : '';
      throw new ApiError(res.status, `${d?.message ?? res.statusText}${fields}`);
    }
    return data;
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
export async function cliToken(apiToken: string | undefined, dataDir: string): Promise<string> {
  if (apiToken) return apiToken;
  const file = path.join(dataDir, 'cli.token');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UnreachableError(`no API token: set API_TOKEN, or run as a user who can read ${file} (Postroom writes it on start)`);
  }
}
