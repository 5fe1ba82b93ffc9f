import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { RawSmtp, SmtpReply } from '../e2e/raw-smtp.js';
import type { SunkMessage } from '../helpers/smtp-sink.js';

/** A small seeded PRNG (mulberry32): the same seed plays the same chaos again. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed CI and a plain `npm run test:chaos` use, so that a run is the same every time. */
const DEFAULT_CHAOS_SEED = 20261122;

/** The seed of this run: CHAOS_SEED when set (a number replays that run; `random` explores with the clock), otherwise the default. */
export function chaosSeed(): number {
  const raw = process.env.CHAOS_SEED;
  if (raw === 'random') return Date.now() % 2 ** 31;
  const fromEnv = Number(raw);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_CHAOS_SEED;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Where each chaos test appends its numbers (one JSON line per test), for docs/RELIABILITY.md. */
export const RESULTS_FILE = process.env.CHAOS_RESULTS ?? path.join(os.tmpdir(), 'postroom-chaos-results.jsonl');

export function report(test: string, numbers: Record<string, unknown>): void {
  const line = JSON.stringify({ at: new Date().toISOString(), test, ...numbers });
  appendFileSync(RESULTS_FILE, line + '\n');
  console.log(`CHAOS RESULT ${line}`);
}

/** The X-Chaos-Id header that every test message carries (unique per logical message). */
export function chaosIdOf(m: SunkMessage): string | undefined {
  return /^X-Chaos-Id: (\S+)\r?$/im.exec(m.data.toString('latin1'))?.[1];
}

/** How many times the sink got each chaos id. */
export function sinkCounts(messages: SunkMessage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const id = chaosIdOf(m);
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export function chaosMessage(id: string, to = 'ops@example.com', extraBody = ''): string {
  return `From: cron@nas.local\r\nTo: ${to}\r\nSubject: ${id}\r\nX-Chaos-Id: ${id}\r\n\r\nbody of ${id}\r\n${extraBody}`;
}

/** A direct SQL connection to the database the Postroom under test uses (for snapshots the API does not give). */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

export interface MtaResult {
  /** chaos id -> queue ids of the 250 replies (more than one when an unacknowledged copy was also stored). */
  acked: Map<string, string>;
  /** Chaos ids whose DATA was sent completely but no final reply came back (the fate is unknown to the client). */
  unknownFate: Set<string>;
  /** Every final reply to DATA other than 250, by code. */
  refusedCodes: Map<number, number>;
  connectionErrors: number;
  /** Messages not acknowledged by the deadline. */
  gaveUp: string[];
}

/**
 * One well-behaved MTA: a persistent SMTP session that sends its messages one transaction at a
 * time and, as real MTAs do, keeps a message and tries again later (new connection, backoff)
 * whenever it did not get a 250 — a 4xx, a dropped connection or a refused connect.
 * Bounded by `deadline` (epoch ms).
 */
export async function runMta(options: {
  port: () => number;
  messages: { id: string; body: string; to?: string }[];
  deadline: number;
  result: MtaResult;
  pauseMs?: number;
  localAddress?: string;
  /** Called with the DATA reply of each transaction, when it came. */
  onReply?: (id: string, reply: SmtpReply, sentAt: number) => void;
}): Promise<void> {
  const pending = [...options.messages];
  let backoff = 100;
  while (pending.length > 0 && Date.now() < options.deadline) {
    let smtp: RawSmtp | undefined;
    try {
      smtp = await RawSmtp.connect(options.port(), { timeoutMs: 2000, localAddress: options.localAddress });
      const greeting = await smtp.read(5000);
      if (greeting.code !== 220) throw new Error(`greeting ${greeting.code}`);
      if ((await smtp.command('EHLO mta.nas.local', 5000)).code !== 250) throw new Error('EHLO refused');
      while (pending.length > 0 && Date.now() < options.deadline) {
        const m = pending[0]!;
        const to = m.to ?? 'ops@example.com';
        const mail = await smtp.command('MAIL FROM:<cron@nas.local>', 5000);
        if (mail.code !== 250) throw new Error(`MAIL ${mail.code}`);
        const rcpt = await smtp.command(`RCPT TO:<${to}>`, 5000);
        if (rcpt.code !== 250) throw new Error(`RCPT ${rcpt.code}`);
        const data = await smtp.command('DATA', 5000);
        if (data.code !== 354) throw new Error(`DATA ${data.code}`);
        const sentAt = Date.now();
        let reply: SmtpReply;
        try {
          reply = await smtp.data(m.body, 20_000);
        } catch (err) {
          options.result.unknownFate.add(m.id);
          throw err;
        }
        options.onReply?.(m.id, reply, sentAt);
        if (reply.code === 250) {
          const queueId = /queued as ([0-9A-Z]{17})/.exec(reply.text)?.[1] ?? '?';
          options.result.acked.set(m.id, queueId);
          pending.shift();
          backoff = 100;
          if (options.pauseMs) await sleep(options.pauseMs);
        } else {
          options.result.refusedCodes.set(reply.code, (options.result.refusedCodes.get(reply.code) ?? 0) + 1);
          if (reply.code >= 500) throw new Error(`permanent refusal ${reply.code} ${reply.text} for ${m.id}`);
          await smtp.command('RSET', 5000).catch(() => undefined);
          throw new Error(`temporary refusal ${reply.code}`);
        }
      }
      await smtp.command('QUIT', 2000).catch(() => undefined);
    } catch (err) {
      if (String(err).includes('permanent refusal')) throw err;
      options.result.connectionErrors++;
      await sleep(backoff);
      backoff = Math.min(1000, backoff * 2);
    } finally {
      smtp?.close();
    }
  }
  options.result.gaveUp.push(...pending.map((m) => m.id));
}

export function newMtaResult(): MtaResult {
  return { acked: new Map(), unknownFate: new Set(), refusedCodes: new Map(), connectionErrors: 0, gaveUp: [] };
}

/** Polls until check() is truthy (bounded). */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/**
 * A binary-safe SMTP wire for hostile input: writes raw bytes (NUL, bare LF, 8-bit, no line end
 * at all) and reads replies as they come. Every read is bounded.
 */
export class Wire {
  private buffer = '';
  private closed = false;
  private waiter?: () => void;

  private constructor(readonly socket: import('node:net').Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.waiter?.();
    });
    const end = () => {
      this.closed = true;
      this.waiter?.();
    };
    socket.on('close', end);
    socket.on('end', end);
    socket.on('error', end);
  }

  static async open(port: number, localAddress?: string): Promise<Wire> {
    const net = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress });
      const timer = setTimeout(() => (socket.destroy(), reject(new Error('connect timed out'))), 5000);
      socket.once('error', (err) => (clearTimeout(timer), reject(err)));
      socket.once('connect', () => (clearTimeout(timer), resolve(new Wire(socket))));
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next reply, or undefined when the connection closed (or nothing came in time). */
  async reply(timeoutMs = 5000): Promise<SmtpReply | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.closed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** Sends a line (CRLF added) and reads the reply. */
  async cmd(line: string, timeoutMs?: number): Promise<SmtpReply | undefined> {
    this.write(line + '\r\n');
    return this.reply(timeoutMs);
  }

  /** Reads up to n replies (stops early when the connection closes or goes quiet). */
  async replies(n: number, timeoutMs = 10_000): Promise<SmtpReply[]> {
    const out: SmtpReply[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) {
      const r = await this.reply(Math.max(1, deadline - Date.now()));
      if (!r) break;
      out.push(r);
    }
    return out;
  }

  /** Waits until the server closes the connection (bounded); true when it did. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    return this.closed;
  }

  private take(): SmtpReply | undefined {
    const lines: string[] = [];
    let offset = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', offset);
      if (end === -1) return undefined;
      const line = this.buffer.slice(offset, end);
      lines.push(line);
      offset = end + 2;
      if (/^\d{3}(?: |$)/.test(line)) {
        this.buffer = this.buffer.slice(offset);
        return { code: Number(line.slice(0, 3)), text: lines.map((l) => l.slice(4)).join('\n') };
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Points Postroom at a relay (PUT /api/v1/settings). Alert-storm protection is switched off where
 * the settings have it: these tests play crashes and outages with many similar messages that
 * clients send again, which is not what the storm guard is about (alert-storm.chaos.spec.ts is).
 */
export async function useRelay(postroom: { api: <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }> }, settings: Record<string, unknown>, options: { keepStormGuard?: boolean } = {}): Promise<void> {
  const stormOff = options.keepStormGuard ? {} : { stormMaxDuplicates: 0, senderRateLimitPerMinute: 0 };
  let r = await postroom.api<{ fields?: Record<string, string> }>('PUT', '/api/v1/settings', { ...settings, ...stormOff });
  if (r.status === 400 && Object.keys(r.body?.fields ?? {}).every((k) => k in stormOff)) r = await postroom.api('PUT', '/api/v1/settings', settings);
  if (r.status !== 200) throw new Error(`PUT /api/v1/settings answered ${r.status}: ${JSON.stringify(r.body)}`);
}
