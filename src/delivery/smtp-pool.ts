import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SMTPConnectionAuth, SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection/index.js';
import { MessageData } from '../common/message-data.js';
import { Body, SmtpError, quit as endSession, forConnection, logIn, offers8BitMime, sendMessage } from './smtp-session.js';

export interface SmtpPoolOptions {
  /** nodemailer's connection options: host, port, TLS mode, EHLO name, timeouts. */
  connection: SMTPConnectionOptions;
  /** Log in on every new connection (credentials or an XOAuth2 token source); a server offering no AUTH fails the connection. */
  auth?: SMTPConnectionAuth;
  maxConnections: number;
  /** Messages per connection, then a fresh one. */
  maxMessages: number;
  /** A connection unused this long is closed (QUIT). */
  idleMs: number;
}

interface Pooled {
  conn: SMTPConnection;
  messages: number;
  dead: boolean;
  /** The server offered 8BITMIME (read once per connection, not per message). */
  eightBitMime: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** A failure of the connection rather than of the message (nodemailer's own rule for its pool). */
const transient = (e: SmtpError): boolean => e.responseCode === 421 || e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'ETIMEDOUT';

/** A reused connection that failed (dropped, 421) before any of the message was sent. */
class StaleConnection extends Error {
  constructor(override readonly cause: SmtpError) {
    super(cause.message);
  }
}

/**
 * Pooled SMTP connections to one relay, built on nodemailer's SMTPConnection (the same
 * connection, TLS and login code as the test email): up to `maxConnections`, each sending
 * message after message with the stored bytes as they are (no MIME composing), PIPELINING
 * where the server offers it. As nodemailer's own pool does: a connection that refused a
 * message is reset (RSET) and kept; one that failed is closed; a message that met a reused
 * connection the server had silently dropped is tried once more on a fresh one.
 */
export class SmtpPool {
  private readonly idle: Pooled[] = [];
  private readonly waiting: { resolve: (p: Pooled) => void; reject: (err: unknown) => void }[] = [];
  private open = 0;
  private closed = false;

  constructor(private readonly options: SmtpPoolOptions) {}

  async send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SMTPConnectionSendInfo> {
    try {
      return await this.sendOn(await this.acquire(), envelope, raw);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      // On a new connection: the idle ones may have met the same fate (a relay that restarted).
      return this.sendOn(await this.acquire(true), envelope, raw);
    }
  }

  /** Closes idle connections now and busy ones once their message is done. */
  close(): void {
    this.closed = true;
    for (const p of this.idle.splice(0)) this.discard(p, true);
    for (const w of this.waiting.splice(0)) w.reject(Object.assign(new Error('connection pool closed'), { code: 'ECONNECTION' }));
  }

  private sendOn(p: Pooled, envelope: { from: string; to: string[] }, raw: MessageData): Promise<SMTPConnectionSendInfo> {
    const reused = p.messages > 0;
    const data = forConnection(p.eightBitMime, raw);
    const body = new Body(data, p.conn._socket || undefined);
    return new Promise((resolve, reject) => {
      sendMessage(p.conn, envelope, data, body, (e, info) => {
        p.messages++;
        if (!e) {
          this.release(p);
          return resolve(info!);
        }
        if (reused && !body.sent && transient(e)) {
          this.discard(p, false);
          return reject(new StaleConnection(e));
        }
        if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && !p.dead && !p.conn.destroyed) {
          // The server refused this message; the connection is fine once reset.
          return p.conn.reset((resetErr) => {
            if (resetErr) this.discard(p, true);
            else this.release(p);
            reject(e);
          });
        }
        this.discard(p, true);
        reject(e);
      });
    });
  }

  /** An idle connection (unless `fresh`), a new one while there is room, or the next one released. */
  private acquire(fresh = false): Promise<Pooled> {
    for (let p = fresh ? undefined : this.idle.pop(); p; p = this.idle.pop()) {
      clearTimeout(p.idleTimer);
      if (!p.dead) return Promise.resolve(p);
    }
    if (this.closed) return Promise.reject(Object.assign(new Error('connection pool closed'), { code: 'ECONNECTION' }));
    if (this.open < this.options.maxConnections) return this.connect();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(p: Pooled): void {
    if (this.closed || p.dead || p.messages >= this.options.maxMessages) return this.discard(p, true);
    const waiter = this.waiting.shift();
    if (waiter) return waiter.resolve(p);
    p.idleTimer = setTimeout(() => {
      const i = this.idle.indexOf(p);
      if (i >= 0) this.idle.splice(i, 1);
      this.discard(p, true);
    }, this.options.idleMs);
    p.idleTimer.unref();
    this.idle.push(p);
  }

  /** Takes a connection out of the pool (QUIT when it still works); a waiter gets a new one. */
  private discard(p: Pooled, quit: boolean): void {
    if (!p.dead) {
      p.dead = true;
      this.open--;
      if (quit) endSession(p.conn);
      else p.conn.close();
    }
    const waiter = !this.closed && this.open < this.options.maxConnections ? this.waiting.shift() : undefined;
    if (waiter) this.connect().then(waiter.resolve, waiter.reject);
  }

  /** Opens a connection: greeting, EHLO, STARTTLS as configured, then login when one is configured (see logIn). */
  private connect(): Promise<Pooled> {
    this.open++;
    const conn = new SMTPConnection(this.options.connection);
    const p: Pooled = { conn, messages: 0, dead: false, eightBitMime: false };
    return new Promise((resolve, reject) => {
      let ready = false;
      // `quit`: the server still talks (a refused login), so the session ends with QUIT.
      const fail = (err: unknown, quit = false) => {
        if (ready) return;
        ready = true;
        this.discard(p, quit);
        reject(err);
      };
      // After setup, a send's callback gets its error; a server that drops an idle connection ends it.
      conn.on('error', (err) => fail(err));
      conn.once('end', () => {
        this.discard(p, false);
        fail(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' }));
      });
      conn.connect((err) => {
        if (err) return fail(err);
        logIn(conn, this.options.auth, (loginErr) => {
          if (loginErr) return fail(loginErr, true);
          if (ready) return;
          ready = true;
          p.eightBitMime = offers8BitMime(conn);
          resolve(p);
        });
      });
    });
  }
}
