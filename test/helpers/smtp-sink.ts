import { AddressInfo } from 'node:net';
import { SMTPServer, SMTPServerOptions } from 'smtp-server';

export interface SunkMessage {
  from: string;
  to: string[];
  data: Buffer;
  user?: string;
  /** The session was TLS (STARTTLS or implicit) when the message came. */
  secure?: boolean;
  /** The name the client gave in EHLO/HELO. */
  clientHostname?: string;
}

export interface SinkOptions {
  /** Offer STARTTLS (smtp-server's built-in self-signed certificate) — the default. */
  starttls?: boolean;
  /** Implicit TLS from the first byte (port-465 style). */
  secure?: boolean;
  /** Require AUTH PLAIN/LOGIN with these credentials. */
  auth?: { user: string; pass: string };
  /** Reply code for a recipient, or undefined to accept it. */
  rcptReply?: (address: string) => { code: number; message: string } | undefined;
  port?: number;
}

/** A real SMTP relay on loopback that records what it receives. */
export class SmtpSink {
  readonly messages: SunkMessage[] = [];
  readonly authAttempts: { user: string; ok: boolean }[] = [];
  private server?: SMTPServer;
  port = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly options: SinkOptions = {}) {}

  async start(): Promise<this> {
    const o = this.options;
    const disabled: string[] = [];
    if (o.starttls === false || o.secure) disabled.push('STARTTLS');
    if (!o.auth) disabled.push('AUTH');
    const config: SMTPServerOptions = {
      secure: o.secure ?? false,
      authOptional: !o.auth,
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: disabled,
      logger: false,
      // stop() drops idle client connections (a relay pool) after half a second instead of waiting.
      closeTimeout: 500,
      onAuth: (auth, _session, cb) => {
        const ok = !!o.auth && auth.username === o.auth.user && auth.password === o.auth.pass;
        this.authAttempts.push({ user: auth.username ?? '', ok });
        if (!ok) return cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
        cb(null, { user: auth.username });
      },
      onRcptTo: (address, _session, cb) => {
        const reply = o.rcptReply?.(address.address);
        if (reply) return cb(Object.assign(new Error(reply.message), { responseCode: reply.code }));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks),
            user: typeof session.user === 'string' ? session.user : undefined,
            secure: session.secure,
            clientHostname: session.hostNameAppearsAs,
          });
          this.checkWaiters();
          cb(null, 'Ok: sunk');
        });
      },
    };
    const server = new SMTPServer(config);
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(o.port ?? this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Resolves once `count` messages have arrived in total (rejects after timeoutMs). */
  waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sink has ${this.messages.length} of ${count} messages after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private checkWaiters(): void {
    this.waiters = this.waiters.filter((w) => (this.messages.length >= w.count ? (w.resolve(), false) : true));
  }

  /** Stops listening and drops open connections; start() again reuses the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
