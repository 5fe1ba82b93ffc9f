import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface SinkAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Keep the request waiting this long before answering (a slow service). */
  delayMs?: number;
}

/**
 * A notification service on loopback: records every request and answers each as `answer` says
 * (by default 200 {"ok":true}); `answers` queued with `next` are used first, in order.
 */
export class HttpSink {
  readonly received: ReceivedRequest[] = [];
  private readonly queued: SinkAnswer[] = [];
  private server?: Server;
  port = 0;

  constructor(private answer: (req: ReceivedRequest) => SinkAnswer = () => ({ status: 200, body: '{"ok":true}' })) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next requests get these answers, in order; then `answer` again. */
  next(...answers: SinkAnswer[]): void {
    this.queued.push(...answers);
  }

  answerWith(answer: (req: ReceivedRequest) => SinkAnswer): void {
    this.answer = answer;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(got);
        const a = this.queued.shift() ?? this.answer(got);
        const send = () => {
          res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
          res.end(a.body ?? '');
        };
        if (a.delayMs) setTimeout(send, a.delayMs);
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Requests to `path` (prefix), parsed as JSON. */
  json<T = Record<string, unknown>>(path = '/'): T[] {
    return this.received.filter((r) => r.path.startsWith(path)).map((r) => JSON.parse(r.body) as T);
  }

  async until(count: number, timeoutMs = 20_000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`the HTTP sink got ${this.received.length} of ${count} requests`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.received;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
