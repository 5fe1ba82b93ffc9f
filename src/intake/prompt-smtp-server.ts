import type { Socket } from 'node:net';
import { SMTPServer, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { Expiry, SessionDeadline, SessionLimits } from './smtp-deadline.js';
import { parseableAddressCommand } from './smtp-local-names.js';

/** The parts of smtp-server's connection and server internals this file relies on (pinned 3.21.x). */
interface ConnectionInternals {
  _setListeners(callback: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, context?: unknown): void;
  _refuse(err: Error & { responseCode?: number }, context?: unknown): void;
  handler_MAIL(command: Buffer, callback: () => void): void;
  handler_RCPT(command: Buffer, callback: () => void): void;
  handler_DATA(command: Buffer, callback: () => void): void;
  name: string;
  session: SMTPServerSession;
  _server: ServerInternals;
  _socket: Socket;
  _handlerPending: boolean;
  _dataStream: unknown;
  _parser: { _dataMode: boolean; dataBytes: number } | false;
  on(event: string, listener: (arg: unknown) => void): void;
}
interface ServerInternals {
  options: { maxClients?: number };
  connections: Set<unknown>;
  deadlines: SessionDeadlines;
  _onError(err: unknown): void;
  _onClientConnect(data: unknown): void;
}

/** The deadlines of every session, and who hears of a session cut by one. */
export interface SessionDeadlines {
  limits: SessionLimits;
  /** Called before the 421; `inData` when a message was being received (it is not queued). */
  onExpire(session: SMTPServerSession, why: Expiry, inData: boolean): void;
  /** Called after a refusal before DATA (the connection, a MAIL or RCPT command), whoever answered it: our handlers or smtp-server's own checks. */
  onRefused?(session: SMTPServerSession, refusal: Refusal): void;
}

/** A refusal before DATA: where, the reply as sent, and the address the refused command named. */
export interface Refusal {
  stage: 'connect' | 'MAIL' | 'RCPT';
  code: number;
  reply: string;
  address?: string;
}

/** The address a MAIL FROM or RCPT TO command names (what is between the brackets, else the argument), for the log only. */
function commandAddress(command: Buffer): string {
  const text = command.toString('utf8', 0, Math.min(command.length, 1024));
  const arg = text.replace(/^\s*\S+\s+(?:FROM|TO)\s*:\s*/i, '');
  const bracketed = /^<([^>]*)>/.exec(arg);
  // Control characters (NUL above all) cannot be stored as text: the line would be lost.
  return (bracketed ? bracketed[1]! : (arg.split(/\s/)[0] ?? '')).slice(0, 320).replace(/[\u0000-\u001f\u007f]/g, '?');
}

const Base = SMTPConnection as unknown as new (server: unknown, socket: Socket, options: unknown) => ConnectionInternals;

/**
 * A connection that greets at once, and that ends at its deadlines (smtp-deadline.ts).
 *
 * smtp-server waits 100 ms before every greeting to catch clients that talk too early — a spam
 * heuristic for public MX hosts. Our listener serves trusted local clients only (allowed
 * networks), and the wait caps a client that opens one connection per message (sendmail, cron)
 * at 10 messages a second. A client that still talks before the greeting is refused by
 * smtp-server as before ("You talk too soon").
 */
class PromptConnection extends Base {
  private deadline?: SessionDeadline;
  /** The MAIL or RCPT command awaiting its reply; its address is read only if it is refused. */
  private stage?: { stage: 'MAIL' | 'RCPT'; command: Buffer };

  init(): void {
    const { limits, onExpire } = this._server.deadlines;
    const inData = () => (this._parser && this._parser._dataMode ? this._parser.dataBytes : undefined);
    this.deadline = new SessionDeadline(limits, {
      dataBytes: inData,
      // As smtp-server's own idle timeout: a handler runs, or the message is in and not yet answered.
      waitingOnUs: () => this._handlerPending || Boolean(this._dataStream && this._parser && !this._parser._dataMode),
      expire: (why) => {
        onExpire(this.session, why, inData() !== undefined);
        this.send(421, `4.4.2 ${this.name} Error: timeout exceeded`); // a 421 also closes the connection
      },
    });
    this._socket.once('close', () => this.deadline?.stop());
    this._setListeners(() => {
      const server = this._server;
      if (server.options.maxClients && server.connections.size > server.options.maxClients) {
        return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
      }
      this.connectionReady();
    });
  }

  override send(code: number, text: string, context?: unknown): void {
    super.send(code, text, context);
    this.deadline?.replied();
    // One reply per MAIL or RCPT command: this one closes the stage. A refusal of the envelope
    // counts, not a 503 (commands out of order) nor a 421 (the session ends; deadlines report their own).
    const stage = this.stage;
    this.stage = undefined;
    if (stage && code >= 400 && code !== 503 && code !== 421) {
      this._server.deadlines.onRefused?.(this.session, { stage: stage.stage, address: commandAddress(stage.command), code, reply: this.session.error ?? `${code} ${text}` });
    }
  }

  override _refuse(err: Error & { responseCode?: number }, context?: unknown): void {
    this.stage = undefined;
    super._refuse(err, context);
    const code = err.responseCode || 554;
    this._server.deadlines.onRefused?.(this.session, { stage: 'connect', code, reply: this.session.error ?? `${code} ${err.message}` });
  }

  override handler_MAIL(command: Buffer, callback: () => void): void {
    this.stage = { stage: 'MAIL', command };
    super.handler_MAIL(parseableAddressCommand(command), callback);
  }

  override handler_RCPT(command: Buffer, callback: () => void): void {
    this.stage = { stage: 'RCPT', command };
    super.handler_RCPT(parseableAddressCommand(command), callback);
  }

  override handler_DATA(command: Buffer, callback: () => void): void {
    // DATA's refusals are the listener's to log (it knows the message's fate).
    this.stage = undefined;
    super.handler_DATA(command, callback);
    if (this._parser && this._parser._dataMode) this.deadline?.dataStarted();
  }
}

/** smtp-server with PromptConnection; everything else is the library's own. */
export class PromptSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    readonly deadlines: SessionDeadlines,
  ) {
    super(options);
  }

  override connect(socket: Socket, socketOptions: unknown): void {
    const self = this as unknown as ServerInternals;
    const connection = new PromptConnection(this, socket, socketOptions);
    self.connections.add(connection);
    connection.on('error', (err) => self._onError(err));
    connection.on('connect', (data) => self._onClientConnect(data));
    connection.init();
  }
}
