import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

/** The parts of smtp-server's connection and server internals this file relies on (pinned 3.21.x). */
interface ConnectionInternals {
  _setListeners(callback: () => void): void;
  connectionReady(): void;
  send(code: number, text: string, end?: boolean): void;
  name: string;
  on(event: string, listener: (arg: unknown) => void): void;
}
interface ServerInternals {
  options: { maxClients?: number };
  connections: Set<unknown>;
  _onError(err: unknown): void;
  _onClientConnect(data: unknown): void;
}

/**
 * A connection that greets at once. smtp-server waits 100 ms before every greeting to catch
 * clients that talk too early — a spam heuristic for public MX hosts. Our listener serves trusted
 * local clients only (allowed networks), and the wait caps a client that opens one connection
 * per message (sendmail, cron) at 10 messages a second. A client that still talks before the
 * greeting is refused by smtp-server as before ("You talk too soon").
 */
class PromptConnection extends (SMTPConnection as unknown as new (server: unknown, socket: Socket, options: unknown) => ConnectionInternals) {
  init(this: ConnectionInternals & { _server: ServerInternals }): void {
    this._setListeners(() => {
      const server = this._server;
      if (server.options.maxClients && server.connections.size > server.options.maxClients) {
        return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);
      }
      this.connectionReady();
    });
  }
}

/** smtp-server with PromptConnection; everything else is the library's own. */
export class PromptSmtpServer extends SMTPServer {
  override connect(socket: Socket, socketOptions: unknown): void {
    const self = this as unknown as ServerInternals;
    const connection = new PromptConnection(this, socket, socketOptions) as unknown as ConnectionInternals & { init(): void };
    self.connections.add(connection);
    connection.on('error', (err) => self._onError(err));
    connection.on('connect', (data) => self._onClientConnect(data));
    connection.init();
  }
}
