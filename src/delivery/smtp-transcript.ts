import { format } from 'node:util';

/** Where a test conversation stopped (or `done`). */
export type TestStep = 'dns' | 'oauth' | 'connect' | 'greeting' | 'ehlo' | 'starttls' | 'tls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'done';

type LogEntry = { tnx?: string } & Record<string, unknown>;
type LogFn = (entry: LogEntry | string, message?: unknown, ...args: unknown[]) => void;

/**
 * Collects nodemailer's log of one SMTP conversation (give `logger` to nodemailer with
 * `transactionLog: true`) as transcript lines: "S: " server, "C: " client, "* " notes. Every
 * line is redacted before it is kept: AUTH payloads (the argument of "AUTH <mechanism>" and every
 * client line answering a 334 challenge) and the password itself, in clear and in base64.
 * It also follows how far the conversation got, for the diagnosis.
 */
export class SmtpTranscript {
  readonly lines: string[] = [];
  /** The step the conversation is in: set by each command the client sends. */
  phase: TestStep = 'connect';
  connected = false;
  upgraded = false;
  lastServerLine = '';
  private challenged = false;
  private readonly secrets: string[];

  constructor(secrets: (string | undefined)[] = []) {
    const list: string[] = [];
    for (const s of secrets) {
      if (!s || s.length < 3) continue;
      list.push(s, Buffer.from(s, 'utf8').toString('base64'));
    }
    // Longest first, so a secret that contains another is removed whole.
    this.secrets = list.sort((a, b) => b.length - a.length);
  }

  /** A bunyan-style logger for nodemailer. */
  readonly logger: Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', LogFn> = {
    trace: () => undefined,
    debug: (entry, message, ...args) => this.log(entry, message, args),
    info: (entry, message, ...args) => this.log(entry, message, args),
    warn: (entry, message, ...args) => this.log(entry, message, args),
    error: (entry, message, ...args) => this.log(entry, message, args),
    fatal: (entry, message, ...args) => this.log(entry, message, args),
  };

  /** Adds a secret learnt during the conversation (an access token): redacted from here on. */
  addSecret(secret: string): void {
    if (secret.length < 3) return;
    this.secrets.push(secret, Buffer.from(secret, 'utf8').toString('base64'));
    this.secrets.sort((a, b) => b.length - a.length);
  }

  /** Adds a note of our own ("* ..."). */
  note(text: string): void {
    this.lines.push('* ' + this.redact(text));
  }

  /** Removes the secrets from any text (replies, error messages). */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  private log(entry: LogEntry | string, message: unknown, args: unknown[]): void {
    let tnx: string | undefined;
    let text: string;
    if (typeof entry === 'string') text = format(entry, ...(message === undefined ? [] : [message]), ...args);
    else {
      tnx = entry.tnx;
      text = typeof message === 'string' ? format(message, ...args) : String(message ?? '');
    }
    if (tnx === 'message') return; // the message itself is not part of the conversation
    if (tnx === 'server') {
      for (const line of text.split(/\r?\n/)) {
        if (!line) continue;
        this.lines.push('S: ' + this.redact(line));
        this.lastServerLine = this.redact(line);
      }
      // A 334 is a challenge: the client's next line is an AUTH payload.
      this.challenged = /^334[ -]/.test(text);
      return;
    }
    if (tnx === 'client') {
      this.lines.push('C: ' + this.client(text));
      return;
    }
    if (tnx === 'network' && /^Connection established/i.test(text)) {
      this.connected = true;
      this.phase = 'greeting';
    }
    if (/Connection upgraded with STARTTLS/i.test(text)) this.upgraded = true;
    if (text) this.lines.push('* ' + this.redact(text));
  }

  private client(text: string): string {
    if (this.challenged) {
      this.challenged = false;
      return '[redacted]';
    }
    const command = text.split(' ', 1)[0]!.toUpperCase();
    if (command === 'EHLO' || command === 'HELO' || command === 'LHLO') this.phase = this.phase === 'connect' || this.phase === 'greeting' || this.phase === 'starttls' || this.phase === 'ehlo' ? 'ehlo' : this.phase;
    else if (command === 'STARTTLS') this.phase = 'starttls';
    else if (command === 'AUTH') this.phase = 'auth';
    else if (command === 'MAIL') this.phase = 'mail';
    else if (command === 'RCPT') this.phase = 'rcpt';
    else if (command === 'DATA' || text === '.') this.phase = 'data';
    const auth = /^(AUTH\s+\S+)\s+\S.*$/i.exec(text);
    if (auth) return `${auth[1]!.toUpperCase()} [redacted]`;
    return this.redact(text);
  }
}
