import { ResourceLimits, Worker } from 'node:worker_threads';
import type { SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection/index.js';
import { MessageData, STREAMED_BODY_BYTES, wholeMessage } from '../common/message-data.js';
import { poolAuth } from './pool-login.js';
import { SmtpPool } from './smtp-pool.js';
import { AccessTokenSource, Envelope, FromThread, SentInfo, ThreadPoolOptions, ToThread, errorFields, errorOf, sentInfo, transferableCopy } from './smtp-thread.protocol.js';

/** The compiled entry of the delivery thread, next to this file. */
export const SMTP_THREAD_SCRIPT = new URL('./smtp-thread.worker.js', import.meta.url);

/**
 * The delivery thread's niceness. Linux gives a nice-10 thread about a tenth of the CPU share of
 * a nice-0 one it competes with (scheduler weights 110 : 1024), and does not let it preempt one
 * that wakes: intake's replies and commits go first on a busy machine, delivery takes the rest.
 */
export const SMTP_THREAD_NICE = 10;

/**
 * Bounds for the thread's heap, far above its need: it holds its pools and per send a few small
 * objects (the message's bytes are outside the heap). Measured after 1,000 messages: 6 MiB of
 * old generation and a new space that never grew past 1 MiB, where Node's defaults would let it
 * reach 4 GiB and 48 MiB. A leak or a runaway past them ends the thread as a crash does (its
 * sends fail as lost connections, are retried, and pools reopen on a new thread) instead of
 * growing the whole process.
 */
const SMTP_THREAD_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 6 };

/** How long the thread may take to end at shutdown (its sends were given their time before). */
const END_GRACE_MS = 5_000;

/**
 * How long the thread may go without a send before it ends (its isolate holds ~13 MiB). Ten
 * times the relay pools' idle-connection time, so their connections have closed by then. The
 * next send starts a new thread: that send waits about 0.1 s more (a new isolate loading the
 * SMTP code); sends on a running thread wait for nothing.
 */
const SMTP_THREAD_IDLE_MS = 5 * 60_000;

interface Call {
  resolve: (info: SentInfo) => void;
  reject: (err: unknown) => void;
}

/**
 * One delivery thread (a worker thread running smtp-thread.worker.ts) and the pools opened on
 * it. Sends are calls answered by the thread (the message goes as a transferred copy); the
 * thread asks back for OAuth2 tokens. If the thread dies, its calls fail as lost connections
 * (the messages are deferred and retried) and the pools open again on a new thread at their
 * next send. It keeps the process alive only while a send is in flight. SmtpThreadHost starts
 * it, ends it when idle and at shutdown.
 */
export class SmtpThread {
  private readonly worker: Worker;
  private readonly pools = new Map<number, AccessTokenSource | undefined>();
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private dead = false;
  private failure?: Error;
  /** When the last send started or ended (Date.now()). */
  private lastActive = Date.now();
  /** The longest idle-connection time of the pools opened here: a connection may stay open that long after its last send. */
  private longestPoolIdleMs = 0;
  /** The thread's id in the kernel and its niceness, once it has started (null: not known, or not allowed). */
  readonly ready: Promise<{ tid: number | null; nice: number | null }>;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;

  constructor(script: URL = SMTP_THREAD_SCRIPT) {
    this.worker = new Worker(script, { workerData: { nice: SMTP_THREAD_NICE }, resourceLimits: SMTP_THREAD_LIMITS });
    this.worker.unref();
    let started!: (r: { tid: number | null; nice: number | null }) => void;
    this.ready = new Promise((resolve) => (started = resolve));
    this.worker.on('message', (m: FromThread) => {
      if (m.type === 'ready') started(m);
      else this.answer(m);
    });
    // An 'error' (an exception the thread did not catch) is followed by 'exit'.
    this.worker.on('error', (err) => (this.failure = err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.dead = true;
        started({ tid: null, nice: null });
        const lost = [...this.calls.values()];
        this.calls.clear();
        for (const c of lost) c.reject(this.stopped());
        resolve();
      }),
    );
  }

  /** False once the thread is ending or has died: no new pools or sends on it. */
  get alive(): boolean {
    return !this.dead;
  }

  /**
   * How long the thread has had nothing to do at `now`: no send in flight, and none started or
   * ended for that long, nor so recently that a pool may still hold an idle connection
   * (0 while a send is in flight).
   */
  idleFor(now: number): number {
    if (this.calls.size > 0) return 0;
    return Math.max(0, now - this.lastActive - this.longestPoolIdleMs);
  }

  open(options: ThreadPoolOptions, tokens?: AccessTokenSource): number {
    const pool = this.nextId++;
    this.pools.set(pool, tokens);
    if (options.idleMs > this.longestPoolIdleMs) this.longestPoolIdleMs = options.idleMs;
    this.post({ type: 'open', pool, options });
    return pool;
  }

  /** Closes a pool: idle connections now, busy ones after their message. */
  close(pool: number): void {
    if (!this.pools.delete(pool) || this.dead) return;
    this.post({ type: 'close', pool });
  }

  /**
   * Ends the thread: it closes its pools (QUIT), lets the sends in flight finish, and exits;
   * stopped after `graceMs` if it has not (a relay that does not answer).
   */
  async end(graceMs = END_GRACE_MS): Promise<void> {
    if (!this.dead) {
      this.dead = true;
      this.post({ type: 'end' });
    }
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  send(pool: number, envelope: Envelope, raw: Buffer): Promise<SentInfo> {
    if (this.dead) return Promise.reject(this.stopped());
    const call = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.calls.size === 0) this.worker.ref();
      this.calls.set(call, { resolve, reject });
      this.lastActive = Date.now();
      const data = transferableCopy(raw);
      this.post({ type: 'send', pool, call, envelope, data }, [data.buffer as ArrayBuffer]);
    });
  }

  /** Stops the thread at once, as a crash would (for tests). */
  terminate(): Promise<void> {
    void this.worker.terminate();
    return this.exited;
  }

  /** A send the thread will not answer fails as a lost connection: the message is deferred and tried again. */
  private stopped(): Error {
    const why = this.failure ? `: ${this.failure.message}` : '';
    return Object.assign(new Error(`the delivery thread stopped${why}`), { code: 'ECONNECTION', command: 'CONN' });
  }

  private answer(m: Exclude<FromThread, { type: 'ready' }>): void {
    switch (m.type) {
      case 'sent':
      case 'failed': {
        const c = this.calls.get(m.call);
        if (!c) return;
        this.calls.delete(m.call);
        if (this.calls.size === 0) {
          this.worker.unref();
          this.lastActive = Date.now();
        }
        return m.type === 'sent' ? c.resolve(m.info) : c.reject(errorOf(m.error));
      }
      case 'token': {
        const tokens = this.pools.get(m.pool);
        const request = m.request;
        if (!tokens) return this.post({ type: 'token', request, error: { message: 'no token source for this pool', code: 'EAUTH' } });
        tokens.token(m.renew).then(
          (token) => this.post({ type: 'token', request, token }),
          (err: unknown) => this.post({ type: 'token', request, error: errorFields(err) }),
        );
      }
    }
  }

  private post(m: ToThread, transfer: ArrayBuffer[] = []): void {
    if (this.dead && m.type !== 'end' && m.type !== 'token') return;
    this.worker.postMessage(m, transfer);
  }
}

export interface SmtpThreadHostOptions {
  /** The thread's compiled entry (tests give the built one). */
  script?: URL;
  /** How long the thread may go without sends before it ends (SMTP_THREAD_IDLE_MS). */
  idleMs?: number;
}

/**
 * The owner of the delivery thread (a provider of the delivery module; TransportFactory gives it
 * to every relay pool). No thread runs at start: the first send starts one, and every pool
 * opens on the running thread. Once the thread has been idle for `idleMs` (no send in flight,
 * none started or ended, no pool still holding an idle connection), it ends and gives its
 * memory back; the next send starts a new one, and the pools open again on it, as after a
 * crash. TransportFactory ends it at shutdown, after the in-flight deliveries.
 */
export class SmtpThreadHost {
  private thread?: SmtpThread;
  /** A thread ended for being idle, until it has exited. */
  private ending?: Promise<void>;
  private idleTimer?: NodeJS.Timeout;
  private readonly script: URL;
  private readonly idleMs: number;

  constructor(options: SmtpThreadHostOptions = {}) {
    this.script = options.script ?? SMTP_THREAD_SCRIPT;
    this.idleMs = options.idleMs ?? SMTP_THREAD_IDLE_MS;
  }

  /** The thread new pools open on: the running one, or a new one. */
  get(): SmtpThread {
    if (this.thread?.alive) return this.thread;
    const thread = new SmtpThread(this.script);
    this.thread = thread;
    this.watch(thread, this.idleMs);
    return thread;
  }

  /** The running thread, if there is one (starts none). */
  get current(): SmtpThread | undefined {
    return this.thread?.alive ? this.thread : undefined;
  }

  /**
   * Ends the running thread, if there is one: its pools QUIT, its sends in flight finish, and
   * it is stopped after `graceMs` if it has not exited. A later send starts a new one.
   */
  async end(graceMs = END_GRACE_MS): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const thread = this.thread;
    this.thread = undefined;
    await Promise.all([thread?.end(graceMs), this.ending]);
  }

  /** Checks the thread after `delayMs`, and again until it has been idle for `idleMs`; then ends it. */
  private watch(thread: SmtpThread, delayMs: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.thread !== thread || !thread.alive) return;
      const idle = thread.idleFor(Date.now());
      if (idle < this.idleMs) return this.watch(thread, this.idleMs - idle);
      this.thread = undefined;
      const ending = (this.ending = thread.end().finally(() => {
        if (this.ending === ending) this.ending = undefined;
      }));
    }, delayMs);
    this.idleTimer.unref();
  }
}

/**
 * SmtpPool's interface with the pool on the delivery thread. Opens on the host's thread at its
 * first send (starting the thread if none runs), and again on a new thread when the one it was
 * on has ended or died. A big message (past STREAMED_BODY_BYTES) goes out from this thread,
 * on a pool of its own opened when one first comes: a copy for the delivery thread would hold
 * it twice, and its few sends cost the main thread little.
 */
export class ThreadedSmtpPool {
  private thread?: SmtpThread;
  private pool = 0;
  private local?: SmtpPool;
  private closed = false;

  constructor(
    private readonly threads: SmtpThreadHost,
    private readonly options: ThreadPoolOptions,
    private readonly tokens?: AccessTokenSource,
  ) {}

  /** The thread this pool is on, once it has sent (tests look at its priority and make it crash). */
  get currentThread(): SmtpThread | undefined {
    return this.thread;
  }

  send(envelope: Envelope, raw: MessageData): Promise<SentInfo> {
    if (this.closed) return Promise.reject(Object.assign(new Error('connection pool closed'), { code: 'ECONNECTION' }));
    if (raw.length > STREAMED_BODY_BYTES) return this.localPool().send(envelope, raw).then((info) => sentInfo(info as SMTPConnectionSendInfo & SentInfo));
    let thread = this.thread;
    if (!thread?.alive) {
      thread = this.thread = this.threads.get();
      this.pool = thread.open(this.options, this.tokens);
    }
    return thread.send(this.pool, envelope, wholeMessage(raw));
  }

  close(): void {
    this.closed = true;
    this.thread?.close(this.pool);
    this.local?.close();
  }

  private localPool(): SmtpPool {
    if (this.local) return this.local;
    const { login, ...o } = this.options;
    const tokens = this.tokens;
    const auth = poolAuth(login, (renew) => (tokens ? tokens.token(renew) : Promise.reject(new Error('no token source for this pool'))));
    this.local = new SmtpPool({ ...o, auth });
    return this.local;
  }
}
