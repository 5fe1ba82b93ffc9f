import net from 'node:net';

export interface SmtpReply {
  code: number;
  text: string;
}

/**
 * A bare SMTP client on a raw socket, for tests that need the exact reply codes (nodemailer
 * hides or pre-empts some of them). Every read is bounded.
 */
export class RawSmtp {
  private buffer = '';
  private closed = false;
  private waiter?: () => void;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
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

  static connect(port: number, options: { localAddress?: string; timeoutMs?: number } = {}): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, localAddress: options.localAddress });
      const timer = setTimeout(() => (socket.destroy(), reject(new Error('SMTP connect timed out'))), options.timeoutMs ?? 5_000);
      socket.once('error', (err) => (clearTimeout(timer), reject(err)));
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawSmtp(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Reads one (possibly multi-line) reply. */
  async read(timeoutMs = 5_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.take();
      if (reply) return reply;
      if (this.closed) throw new Error(`connection closed while waiting for a reply (buffer: ${JSON.stringify(this.buffer)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SMTP reply within ${timeoutMs} ms (buffer: ${JSON.stringify(this.buffer)})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
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

  /** Writes raw bytes (a part of a line, for clients that trickle). */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one command line and reads its reply. */
  async command(line: string, timeoutMs?: number): Promise<SmtpReply> {
    this.socket.write(line + '\r\n');
    return this.read(timeoutMs);
  }

  /** Sends the message body after a 354 (dot-stuffed, terminated) and reads the final reply. */
  async data(body: string, timeoutMs?: number): Promise<SmtpReply> {
    const stuffed = body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.socket.write(stuffed + (stuffed.endsWith('\r\n') ? '' : '\r\n') + '.\r\n');
    return this.read(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}
