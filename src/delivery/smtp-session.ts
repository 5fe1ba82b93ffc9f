import type { Readable, Writable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { SMTPConnectionAuth, SMTPConnectionOptions, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection/index.js';
import { MessageData, hasEightBit, hasLongLine, slices, wholeMessage } from '../common/message-data.js';
import { toSevenBit } from './seven-bit.js';

/**
 * What every relay conversation shares, pooled (SmtpPool) or one message on one connection
 * (sendOnce: the test email, direct MX delivery): the login rule, the MAIL FROM parameters and
 * the 7-bit downgrade, the refusal of a message bigger than the server's SIZE, and QUIT.
 */

export type SmtpError = Error & { code?: string; responseCode?: number; response?: string; command?: string; recipient?: string; rejectedErrors?: SmtpError[] };

/** nodemailer keeps what EHLO offered in fields it does not type. */
type Connection = SMTPConnection & { _supportedExtensions?: string[]; _maxAllowedSize?: number; _closing?: boolean };

export const NO_AUTH_OFFERED = 'the relay offers no AUTH on this connection: use STARTTLS or TLS';

/**
 * Logs in when a login is configured. A server that offers no AUTH on this connection (often:
 * AUTH only after STARTTLS) is an authentication failure, never a reason to send without one:
 * the relay would take the mail as an unauthenticated client's, or refuse it later as spam.
 */
export function logIn(conn: SMTPConnection, auth: SMTPConnectionAuth | undefined, done: (err?: SmtpError) => void): void {
  if (!auth) return done();
  if (!conn.allowsAuth) return done(Object.assign(new Error(NO_AUTH_OFFERED), { code: 'ENOAUTH', response: NO_AUTH_OFFERED, command: 'AUTH' }));
  conn.login(auth, (err) => done((err as SmtpError | null) ?? undefined));
}

/** Whether the server offered 8BITMIME on this connection (after STARTTLS: in the second EHLO). */
export function offers8BitMime(conn: SMTPConnection): boolean {
  return ((conn as Connection)._supportedExtensions ?? []).includes('8BITMIME');
}

/**
 * The message as this connection may take it: as stored when the server offers 8BITMIME or the
 * message is 7-bit, and no line is over 998 octets (the common case: a native scan or two);
 * else the bodies that need it re-encoded (8-bit ones without 8BITMIME, long lines always).
 */
export function forConnection(eightBitMime: boolean, raw: MessageData): MessageData {
  const eightBit = !eightBitMime && hasEightBit(raw);
  if (!eightBit && !hasLongLine(raw)) return raw;
  return toSevenBit(wholeMessage(raw), eightBitMime);
}

/**
 * The envelope with SIZE and BODY=8BITMIME, which nodemailer declares only when EHLO offered
 * them. A message past the server's SIZE is refused before MAIL FROM (nodemailer checks it).
 */
export function envelopeFor(envelope: { from: string; to: string[] }, size: number): { from: string; to: string[]; size: number; use8BitMime: boolean; rejectedErrors?: SmtpError[] } {
  return { from: envelope.from, to: [...envelope.to], size, use8BitMime: true };
}

/**
 * nodemailer refuses a message past the server's SIZE itself, with no reply: given the reply
 * the server would have given at MAIL FROM (RFC 1870 §6.1), it is classified as that refusal.
 * EENVELOPE, as a refused MAIL FROM is: the connection stays usable.
 */
export function sizeRefusal(err: SmtpError, conn: SMTPConnection, size: number): SmtpError {
  const max = (conn as Connection)._maxAllowedSize;
  if (err.responseCode || !max || size <= max || !/size larger than allowed/i.test(err.message)) return err;
  const reply = `552 5.3.4 message size ${size} exceeds the relay's fixed limit of ${max} bytes (SIZE)`;
  return Object.assign(err, { code: 'EENVELOPE', responseCode: 552, response: reply, command: 'MAIL FROM', message: `${err.message}: ${reply}` });
}

/**
 * The error of a send whose DATA stage failed, with the recipients the server had already
 * refused at RCPT: nodemailer keeps those on the envelope object only. Each then keeps its own
 * reply (a 550 at RCPT is not the 451 after DATA), and the DATA reply applies to the accepted
 * recipients alone (RFC 5321 §3.3).
 */
export function withRcptRefusals(err: SmtpError, envelope: { rejectedErrors?: SmtpError[] }, refusedBefore: SmtpError[] = []): SmtpError {
  const all = [...(err.rejectedErrors?.length ? err.rejectedErrors : (envelope.rejectedErrors ?? [])), ...refusedBefore];
  return all.length ? Object.assign(err, { rejectedErrors: all }) : err;
}

/** RFC 6531 §3.4: a UTF-8 address goes only to a server that offers SMTPUTF8; Postfix's words. */
export const SMTPUTF8_REQUIRED = '553 5.6.7 SMTPUTF8 is required, but was not offered by the server';

const NON_ASCII = /[^\x00-\x7f]/;

function utf8Refusal(message: string, command: string, recipient?: string): SmtpError {
  return Object.assign(new Error(message), { code: 'EENVELOPE', responseCode: 553, response: SMTPUTF8_REQUIRED, command, ...(recipient !== undefined ? { recipient } : {}) });
}

/**
 * Sends one message on an open, logged-in connection (the pool and sendOnce alike): the
 * envelope with SIZE and BODY=8BITMIME, minus the UTF-8 addresses a server without SMTPUTF8
 * cannot take (refused with 5.6.7, the others still sent; a UTF-8 sender refuses the message);
 * a failure carries every recipient's own refusal (withRcptRefusals, sizeRefusal).
 */
export function sendMessage(conn: SMTPConnection, envelope: { from: string; to: string[] }, data: MessageData, body: Body, done: (err: SmtpError | null, info?: SMTPConnectionSendInfo) => void): void {
  const utf8 = ((conn as Connection)._supportedExtensions ?? []).includes('SMTPUTF8');
  if (!utf8 && NON_ASCII.test(envelope.from)) return done(utf8Refusal(`sender ${envelope.from}: SMTPUTF8 is required`, 'MAIL FROM'));
  const refused = utf8 ? [] : envelope.to.filter((r) => NON_ASCII.test(r)).map((r) => utf8Refusal(`recipient ${r}: SMTPUTF8 is required`, 'RCPT TO', r));
  const to = refused.length ? envelope.to.filter((r) => !NON_ASCII.test(r)) : envelope.to;
  if (to.length === 0) return done(Object.assign(utf8Refusal('no recipient can go without SMTPUTF8', 'RCPT TO'), { rejectedErrors: refused }));
  const env = envelopeFor({ from: envelope.from, to }, data.length);
  conn.send(env, body as unknown as Readable, (err, info) => {
    if (err) return done(withRcptRefusals(sizeRefusal(err as SmtpError, conn, data.length), env, refused));
    if (!refused.length) return done(null, info);
    const withRefused = info as SMTPConnectionSendInfo & { rejectedErrors?: SmtpError[] };
    done(null, Object.assign(withRefused, { rejected: [...info.rejected, ...refused.map((r) => r.recipient!)], rejectedErrors: [...(withRefused.rejectedErrors ?? []), ...refused] }));
  });
}

/** Whether the conversation can still end politely. */
export function canQuit(conn: SMTPConnection): boolean {
  const c = conn as Connection;
  return !c.destroyed && !c._closing && c.stage === 'connected';
}

/** Ends the session: QUIT when the connection still works (nodemailer closes on the reply), else closes it. */
export function quit(conn: SMTPConnection): void {
  if (canQuit(conn)) conn.quit();
  else conn.close();
}

/** How much of a message goes to the connection's dot-stuffing stream at a time. */
const SLICE_BYTES = 64 * 1024;

/**
 * The message as a pipe-able source for SMTPConnection.send, which pipes a source into its
 * dot-stuffing stream only once the server has taken the envelope (354). `sent` then tells
 * whether any of the message went out, i.e. whether trying again elsewhere could duplicate it.
 * A big message goes in slices, as the connection drains, so it is never copied whole; the last
 * slice and the terminating dot leave in one write (the socket is corked around them).
 */
export class Body {
  sent = false;
  constructor(
    private readonly data: MessageData,
    private readonly socket: Writable | undefined,
  ) {}
  pipe<T extends Writable>(destination: T): T {
    this.sent = true;
    const pieces = slices(this.data, SLICE_BYTES);
    let piece = pieces.next();
    const next = (): void => {
      for (;;) {
        const slice = piece.done ? Buffer.alloc(0) : piece.value;
        piece = pieces.next();
        if (piece.done) {
          // The last slice and the terminating dot, which the dot-stuffing stream adds at its end, in one write.
          const socket = this.socket;
          socket?.cork();
          destination.end(slice);
          if (socket) setImmediate(() => socket.uncork());
          return;
        }
        if (!destination.write(slice)) {
          destination.once('drain', next);
          return;
        }
      }
    };
    next();
    return destination;
  }
}

export interface OnceOptions {
  connection: SMTPConnectionOptions;
  auth?: SMTPConnectionAuth;
  /** Ends the attempt early with the signal's reason (the test email's probe of an implicit-TLS port). */
  signal?: AbortSignal;
  /** How long to wait for the reply to QUIT before resolving (the test email's transcript shows it); 0: do not wait. */
  quitWaitMs?: number;
}

/**
 * One message on a connection of its own: connect (greeting, EHLO, STARTTLS as configured),
 * log in, send with SIZE / BODY=8BITMIME (or the message downgraded to 7 bits), then QUIT,
 * whatever the outcome, while the connection still works.
 */
export function sendOnce(o: OnceOptions, envelope: { from: string; to: string[] }, raw: MessageData): Promise<SMTPConnectionSendInfo> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection(o.connection);
    let settled = false;
    const finish = (err: unknown, info?: SMTPConnectionSendInfo) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      const answer = () => (err ? reject(err) : resolve(info!));
      if (!canQuit(conn) || !o.quitWaitMs) {
        quit(conn);
        return answer();
      }
      const timer = setTimeout(answer, o.quitWaitMs);
      conn.once('end', () => {
        clearTimeout(timer);
        answer();
      });
      conn.quit();
    };
    const onAbort = () => {
      conn.close();
      finish(o.signal!.reason);
    };
    if (o.signal?.aborted) return reject(o.signal.reason);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // An error after the answer (a QUIT that is never answered) has nobody to tell.
    conn.on('error', (err) => finish(err));
    conn.connect((err) => {
      if (err) return finish(err);
      logIn(conn, o.auth, (loginErr) => {
        if (loginErr) return finish(loginErr);
        // The stored bytes in slices, never joined: direct delivery sends one message to several servers at once.
        const data = forConnection(offers8BitMime(conn), raw);
        const body = new Body(data, (conn as Connection & { _socket?: Writable })._socket);
        sendMessage(conn, envelope, data, body, finish);
      });
    });
  });
}

/**
 * A login without a message (the relay probe): connect (greeting, EHLO, STARTTLS as configured),
 * log in as delivery would, then QUIT. Resolves once logged in; rejects with the failure.
 */
export function loginOnce(o: OnceOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection(o.connection);
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      quit(conn);
      if (err) reject(err);
      else resolve();
    };
    conn.on('error', (err) => finish(err));
    conn.connect((err) => (err ? finish(err) : logIn(conn, o.auth, (loginErr) => finish(loginErr))));
  });
}
