import { AddressInfo, Server, Socket, createServer } from 'node:net';

/** One connection as the relay saw it: every command line, and the messages' bytes. */
export interface ScriptSession {
  commands: string[];
  data: Buffer[];
  /** The connection has ended (either side). */
  closed: boolean;
}

export interface ScriptOptions {
  /** The EHLO keywords offered, in order (default: PIPELINING, SIZE 10240000, 8BITMIME). */
  ehlo?: string[];
  /** A reply to MAIL FROM (the line's arguments after "MAIL FROM:"), or undefined for 250. */
  mail?: (args: string) => string | undefined;
  /** A reply to RCPT TO (the address), or undefined for 250. */
  rcpt?: (address: string) => string | undefined;
  /** The reply after the message (once its terminating dot is in), or undefined for 250. */
  afterData?: () => string | undefined;
}

/**
 * A tiny SMTP relay on loopback that answers by script and logs every command per connection,
 * so tests can see exactly what Postroom said (QUIT, MAIL FROM parameters, AUTH or not). AUTH
 * PLAIN with an initial response is accepted whatever the credentials.
 */
export class ScriptRelay {
  readonly sessions: ScriptSession[] = [];
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: ScriptOptions = {}) {}

  async start(): Promise<this> {
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Every command of every session, in order. */
  get commands(): string[] {
    return this.sessions.flatMap((s) => s.commands);
  }

  /** Resolves once `check` holds (bounded). */
  async until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.sessions.map((s) => s.commands))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    const session: ScriptSession = { commands: [], data: [], closed: false };
    this.sessions.push(session);
    socket.on('close', () => {
      session.closed = true;
      this.sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let inData = false;
    // As a real server: DATA without an accepted recipient, or RCPT without MAIL, is refused (PIPELINING sends them anyway).
    let mailOk = false;
    let recipients = 0;
    const reply = (text: string) => socket.write(text + '\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          session.data.push(buffer.subarray(0, end + 2));
          buffer = buffer.subarray(end + 5);
          inData = false;
          reply(this.options.afterData?.() ?? '250 2.0.0 Ok: queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.subarray(0, eol).toString('latin1');
        buffer = buffer.subarray(eol + 2);
        session.commands.push(line);
        const verb = line.split(' ', 1)[0]!.toUpperCase();
        if (verb === 'EHLO') {
          const keywords = this.options.ehlo ?? ['PIPELINING', 'SIZE 10240000', '8BITMIME'];
          const lines = ['script.test', ...keywords];
          reply(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`).join('\r\n'));
        } else if (verb === 'HELO' || verb === 'RSET' || verb === 'NOOP') reply('250 Ok');
        else if (verb === 'AUTH') reply('235 2.7.0 Authentication successful');
        else if (verb === 'MAIL') {
          const answer = this.options.mail?.(line.slice(10)) ?? '250 2.1.0 Ok';
          mailOk = answer.startsWith('2');
          recipients = 0;
          reply(answer);
        } else if (verb === 'RCPT') {
          const answer = mailOk ? (this.options.rcpt?.(/<([^>]*)>/.exec(line)?.[1] ?? '') ?? '250 2.1.5 Ok') : '503 5.5.1 Error: need MAIL command';
          if (answer.startsWith('2')) recipients++;
          reply(answer);
        } else if (verb === 'DATA') {
          if (!recipients) {
            reply('554 5.5.1 Error: no valid recipients');
            continue;
          }
          inData = true;
          mailOk = false;
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 Bye');
          socket.end();
          return;
        } else reply('502 5.5.2 Error: command not recognized');
      }
    });
    reply('220 script.test ESMTP');
  }
}
