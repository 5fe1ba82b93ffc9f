import { createServer, connect, Server, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { sleep } from './util.js';

/**
 * A minimal SMTP sink for the latency test: it greets at once (no early-talker delay), accepts
 * everything, and records performance.now() when a message's final "." arrives, keyed by its
 * X-Bench-Id header. The same sink serves both systems.
 */
export class LatencySink {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  readonly arrivals = new Map<string, number>();
  received = 0;

  constructor(readonly port: number) {}

  async start(): Promise<this> {
    this.server = createServer((socket) => this.session(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    return this;
  }

  private session(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    let buf = '';
    let inData = false;
    let scanFrom = 0;
    socket.write('220 latency-sink ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      const replies: string[] = [];
      for (let guard = 0; guard < 10_000; guard++) {
        if (inData) {
          const end = buf.startsWith('.\r\n') ? -2 : buf.indexOf('\r\n.\r\n', scanFrom);
          if (end === -1) {
            scanFrom = Math.max(0, buf.length - 4);
            break;
          }
          const at = performance.now();
          const data = end < 0 ? '' : buf.slice(0, end);
          buf = buf.slice(end < 0 ? 3 : end + 5);
          inData = false;
          scanFrom = 0;
          this.received++;
          const m = /^X-Bench-Id:\s*(\S+)/im.exec(data.slice(0, 8192));
          if (m && !this.arrivals.has(m[1]!)) this.arrivals.set(m[1]!, at);
          replies.push('250 2.0.0 Ok: queued');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') replies.push('250-latency-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600');
        else if (verb === 'DATA') {
          replies.push('354 End data with <CR><LF>.<CR><LF>');
          inData = true;
        } else if (verb === 'QUIT') {
          replies.push('221 Bye');
          socket.end(replies.join('\r\n') + '\r\n');
          return;
        } else if (['HELO', 'MAIL', 'RCPT', 'RSET', 'NOOP'].includes(verb)) replies.push('250 Ok');
        else replies.push('502 5.5.2 Command not recognized');
      }
      if (replies.length) socket.write(replies.join('\r\n') + '\r\n');
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A sequential SMTP client on one connection: reads whole replies (multi-line aware). */
export class SmtpLiteClient {
  private socket?: Socket;
  private buf = '';
  private pending?: { resolve: (reply: string) => void; reject: (e: Error) => void };
  private closedError?: Error;

  async connect(port: number, timeoutMs = 10_000): Promise<string> {
    const socket = connect(port, '127.0.0.1');
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      this.buf += c.toString('latin1');
      this.drain();
    });
    const fail = (e: Error) => {
      this.closedError = e;
      this.pending?.reject(e);
      this.pending = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    return this.reply(timeoutMs);
  }

  private drain(): void {
    if (!this.pending) return;
    // A complete reply ends with a line "NNN text" (no dash after the code).
    const lines = this.buf.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (/^\d{3}( |$)/.test(lines[i]!)) {
        const reply = lines.slice(0, i + 1).join('\n');
        this.buf = lines.slice(i + 1).join('\r\n');
        const p = this.pending;
        this.pending = undefined;
        p.resolve(reply);
        return;
      }
    }
  }

  private reply(timeoutMs: number): Promise<string> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`no SMTP reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.drain();
    });
  }

  async command(line: string, expect: number, timeoutMs = 30_000): Promise<string> {
    this.socket!.write(line + '\r\n');
    const r = await this.reply(timeoutMs);
    if (!r.startsWith(String(expect))) throw new Error(`"${line.slice(0, 40)}" answered ${r}`);
    return r;
  }

  /** MAIL, RCPT, DATA, the message, "."; resolves with performance.now() at the 250. */
  async send(from: string, to: string, message: string, timeoutMs = 30_000): Promise<number> {
    await this.command(`MAIL FROM:<${from}>`, 250, timeoutMs);
    await this.command(`RCPT TO:<${to}>`, 250, timeoutMs);
    await this.command('DATA', 354, timeoutMs);
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket!.write(body + (body.endsWith('\r\n') ? '' : '\r\n') + '.\r\n');
    const r = await this.reply(timeoutMs);
    const at = performance.now();
    if (!r.startsWith('250')) throw new Error(`end of data answered ${r}`);
    return at;
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT', 221, 2_000);
    } catch {
      // closing anyway
    }
    this.socket?.destroy();
  }
}

export interface LatencyResult {
  sent: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
  /** Delivery latencies in ms (250 at the client → final dot at the sink). */
  samples: number[];
}

/**
 * Light load: `rate` messages a second for `seconds` on one connection (each message a 1 KiB
 * body with a unique X-Bench-Id), then waits (bounded) for the sink to have them all.
 */
export async function measureLatency(listenPort: number, sink: LatencySink, label: string, rate: number, seconds: number): Promise<LatencyResult> {
  const client = new SmtpLiteClient();
  const greeting = await client.connect(listenPort);
  if (!greeting.startsWith('220')) throw new Error(`${label}: greeting ${greeting}`);
  await client.command('EHLO bench-client.localdomain', 250);
  const total = Math.max(1, Math.round(rate * seconds));
  const acked = new Map<string, number>();
  const start = performance.now();
  const filler = ('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\n').repeat(13);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const id = `${label}-${process.pid}-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const msg = `From: <bench@example.com>\nTo: <rcpt@example.net>\nSubject: latency ${i}\nMessage-ID: <${id}@bench.example>\nX-Bench-Id: ${id}\n\n${filler}`;
    acked.set(id, await client.send('bench@example.com', 'rcpt@example.net', msg));
  }
  await client.quit();
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline && [...acked.keys()].some((id) => !sink.arrivals.has(id))) await sleep(20);
  const samples = [...acked].filter(([id]) => sink.arrivals.has(id)).map(([id, t]) => sink.arrivals.get(id)! - t);
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN);
  return { sent: total, delivered: samples.length, p50: pct(50), p99: pct(99), max: sorted[sorted.length - 1] ?? NaN, samples };
}
