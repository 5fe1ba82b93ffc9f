import type { Socket } from 'node:net';
import { SMTPServer, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { Expiry, SessionDeadline, SessionLimits } from './smtp-deadline.js';

/** The parts of smtp-server's connection and server internals this file relies on (pinned 3.21.x). */
interface ConnectionInternals {
  _setListeners(callback: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, context?: unknown): void;
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
  }

  override handler_DATA(command: Buffer, callback: () => void): void {
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
