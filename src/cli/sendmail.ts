import Headers from '@zone-eu/mailsplit/lib/headers.js';
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import os from 'node:os';
import path from 'node:path';
import { formatMailbox, isHostname, isMailbox } from '../common/address.js';
import { ConfigError, loadConfig } from '../config/config.schema.js';
import { splitHeaders } from '../intake/message-normalizer.js';

/** sysexits.h, as /usr/sbin/sendmail answers. */
export const SENDMAIL_EXIT = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOUSER: 67,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;

export interface SendmailArgs {
  /** -t: recipients from the To, Cc and Bcc headers (added to those given as arguments); Bcc removed. */
  extractRecipients: boolean;
  /** -i / -oi: a line with a single dot does not end the message. */
  ignoreDots: boolean;
  /** -f / -r: the envelope sender; '' for the null sender (<>); undefined for the invoking user. */
  sender?: string;
  /** -F: the full name for a From header added when the message has none. */
  fullName?: string;
  verbose: boolean;
  recipients: string[];
}

export class UsageError extends Error {}

/**
 * The sendmail arguments when the command line asks for sendmail: invoked as `sendmail` (a
 * symlink: ln -s $(which postroom) /usr/sbin/sendmail) or as `postroom sendmail`.
 */
export function sendmailArgs(argv: string[]): string[] | undefined {
  const invokedAs = path.basename(argv[1] ?? '').replace(/\.(m?js)$/, '');
  if (invokedAs === 'sendmail') return argv.slice(2);
  if (argv[2] === 'sendmail') return argv.slice(3);
  return undefined;
}

/** Options that take a value, attached (-froot) or as the next argument (-f root). */
const WITH_VALUE = new Set(['f', 'r', 'F', 'B', 'C', 'N', 'O', 'R', 'V', 'X', 'L', 'h', 'p']);

/**
 * Parses sendmail's command line as cron, smartd, mdadm, mailx and friends use it. Options we do
 * not need are accepted and ignored (-odi, -oem, -B8BITMIME, -N never, -U, -v …); modes other
 * than "deliver mail" (-bm) are a usage error, as is anything we do not recognise.
 */
export function parseSendmailArgs(argv: string[]): SendmailArgs {
  const out: SendmailArgs = { extractRecipients: false, ignoreDots: false, verbose: false, recipients: [] };
  let i = 0;
  let options = true;
  while (i < argv.length) {
    const arg = argv[i++]!;
    if (!options || !arg.startsWith('-') || arg === '-') {
      out.recipients.push(arg);
      continue;
    }
    if (arg === '--') {
      options = false;
      continue;
    }
    const flag = arg[1]!;
    let value = arg.slice(2);
    if (WITH_VALUE.has(flag) && value === '') {
      if (i >= argv.length) throw new UsageError(`option -${flag} needs a value`);
      value = argv[i++]!;
    }
    switch (flag) {
      case 't':
        if (value !== '') throw new UsageError(`unknown option ${arg}`);
        out.extractRecipients = true;
        break;
      case 'i':
        out.ignoreDots = true;
        break;
      case 'v':
        out.verbose = true;
        break;
      case 'f':
      case 'r':
        out.sender = value;
        break;
      case 'F':
        out.fullName = value;
        break;
      case 'o':
        // -oi ignores dots like -i; -odi, -odb, -oem, -oep, -om, -oXvalue … are accepted and ignored.
        if (value === 'i') out.ignoreDots = true;
        break;
      case 'b':
        if (value !== 'm') throw new UsageError(`mode -b${value} is not supported (only -bm, deliver mail)`);
        break;
      case 'm':
      case 'n':
      case 'U':
      case 'G':
      case 'A':
      case 'e':
      case 'd':
      case 'B':
      case 'C':
      case 'N':
      case 'O':
      case 'R':
      case 'V':
      case 'X':
      case 'L':
      case 'h':
      case 'p':
        break; // accepted and ignored
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  return out;
}

/** The message as read from stdin: without -i, a line holding a single dot ends it. */
export function cutAtDot(input: Buffer, ignoreDots: boolean): Buffer {
  if (ignoreDots) return input;
  const m = /(^|\n)\.\r?(\n|$)/.exec(input.toString('latin1'));
  return m ? input.subarray(0, m.index + m[1]!.length) : input;
}

/** Addresses from header values or arguments ("a@b, Name <c@d>", groups), flattened. */
export function addressesOf(values: string[]): string[] {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && a.group) walk(a.group);
      else if ('address' in a && a.address) out.push(a.address);
    }
  };
  for (const v of values) {
    // addressparser reads a bare local name ("root", as cron writes To: root) as a display name
    // and merges it with the next address: take bare names out first, keep the rest together.
    const pieces = splitTopLevel(v);
    const bare = (p: string) => /^[^\s<>@",;:()]+$/.test(p.trim());
    for (const p of pieces) if (bare(p)) out.push(p.trim());
    const rest = pieces.filter((p) => !bare(p) && p.trim() !== '').join(',');
    if (rest) walk(addressparser(rest));
  }
  return out;
}

/** Splits an address list at commas outside quotes, angle brackets and comments. */
function splitTopLevel(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) current += c + value[++i];
      else {
        if (c === '"') quoted = false;
        current += c;
      }
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle++;
    else if (c === '>') angle = Math.max(0, angle - 1);
    else if (c === '(') comment++;
    else if (c === ')') comment = Math.max(0, comment - 1);
    else if (c === ',' && angle === 0 && comment === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

/** This machine's domain for unqualified names ("root" → root@nas.example.com, or root@localhost). */
export function localDomain(hostname = os.hostname()): string {
  return hostname.includes('.') && isHostname(hostname) ? hostname.toLowerCase() : 'localhost';
}

const qualify = (address: string, domain: string): string => {
  const a = address.trim().replace(/^<(.*)>$/, '$1').trim();
  return a === '' || a.includes('@') ? a : `${a}@${domain}`;
};

function invokingUser(): string {
  try {
    return os.userInfo().username || 'root';
  } catch {
    return process.env.LOGNAME || process.env.USER || 'root';
  }
}

export interface PreparedMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/** Builds the envelope and the message from the parsed arguments and what stdin held. */
export function prepareMessage(args: SendmailArgs, input: Buffer, domain = localDomain()): PreparedMessage {
  const body = cutAtDot(input, args.ignoreDots);
  const { head, body: rest } = splitHeaders(body);
  const headers = new Headers(head);
  let changed = false;

  const to = addressesOf(args.recipients).map((a) => qualify(a, domain));
  if (args.extractRecipients) {
    for (const name of ['to', 'cc', 'bcc']) to.push(...addressesOf(headers.getDecoded(name).map((h) => h.value)).map((a) => qualify(a, domain)));
    if (headers.hasHeader('bcc')) {
      headers.remove('bcc');
      changed = true;
    }
  }
  const seen = new Set<string>();
  const recipients = to.filter((a) => a !== '' && !seen.has(a.toLowerCase()) && seen.add(a.toLowerCase()));
  if (recipients.length === 0) throw new UsageError(args.extractRecipients ? 'no recipients: none given as arguments and none in the To, Cc or Bcc headers' : 'no recipients given (name them as arguments, or use -t to read them from the headers)');
  for (const r of recipients) if (!isMailbox(r)) throw new UsageError(`not a valid recipient address: ${r}`);

  const from = args.sender === undefined ? `${invokingUser()}@${domain}` : qualify(args.sender, domain);
  if (from !== '' && !isMailbox(from)) throw new UsageError(`not a valid sender address: ${from}`);

  if (args.fullName !== undefined && from !== '' && !headers.hasHeader('from')) {
    headers.add('From', formatMailbox(args.fullName.replace(/[\r\n]/g, ' '), from), Number.MAX_SAFE_INTEGER);
    changed = true;
  }
  const raw = changed ? Buffer.concat([headers.build(), rest]) : body;
  return { from, to: recipients, raw };
}

interface SmtpFailure extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejectedErrors?: { recipient?: string; responseCode?: number; response?: string; message: string }[];
}

/** The exit code for a failed submission, as sendmail would answer. */
export function exitCodeOf(err: SmtpFailure): number {
  const code = err.responseCode;
  if (err.rejectedErrors?.length) {
    const codes = err.rejectedErrors.map((e) => e.responseCode ?? 0);
    return codes.every((c) => c >= 500) ? SENDMAIL_EXIT.NOUSER : SENDMAIL_EXIT.TEMPFAIL;
  }
  if (code === undefined || code < 500) return SENDMAIL_EXIT.TEMPFAIL; // unreachable, timeout, 4xx
  const command = (err.command ?? '').toUpperCase();
  if (command.startsWith('RCPT')) return SENDMAIL_EXIT.NOUSER;
  if (command.startsWith('MAIL') || command.startsWith('DATA') || err.code === 'EMESSAGE' || err.code === 'EENVELOPE') return SENDMAIL_EXIT.DATAERR;
  return SENDMAIL_EXIT.UNAVAILABLE; // 5xx to the greeting or EHLO: not allowed to submit here
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const say = (text: string) => process.stderr.write(`sendmail: ${text}\n`);

/**
 * `postroom sendmail` (or postroom invoked as `sendmail`): reads a message on stdin and submits it
 * to Postroom's SMTP listener (SMTP_LISTEN_HOST / SMTP_LISTEN_PORT), so it is acknowledged only
 * once it is committed to the queue. Resolves with the exit code.
 */
export async function runSendmail(argv: string[], stdin: () => Promise<Buffer> = readStdin): Promise<number> {
  let args: SendmailArgs;
  let smtp: { host: string; port: number };
  try {
    args = parseSendmailArgs(argv);
    const config = loadConfig();
    const host = config.smtp.host === '0.0.0.0' ? '127.0.0.1' : config.smtp.host === '::' ? '::1' : config.smtp.host;
    smtp = { host, port: config.smtp.port };
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      return SENDMAIL_EXIT.CONFIG;
    }
    say(`${(err as Error).message}\nusage: sendmail [-t] [-i] [-f sender] [-F fullname] [recipient ...] < message`);
    return SENDMAIL_EXIT.USAGE;
  }

  let message: PreparedMessage;
  try {
    message = prepareMessage(args, await stdin());
  } catch (err) {
    say((err as Error).message);
    return err instanceof UsageError ? SENDMAIL_EXIT.USAGE : SENDMAIL_EXIT.SOFTWARE;
  }

  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
    name: localDomain(),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 120_000,
    logger: false,
  });
  try {
    const info = (await transport.sendMail({ envelope: { from: message.from, to: message.to }, raw: message.raw })) as unknown as {
      response: string;
      rejected: string[];
      rejectedErrors?: SmtpFailure[];
    };
    if (args.verbose) say(`${smtp.host}:${smtp.port} answered: ${info.response}`);
    if (info.rejectedErrors?.length) {
      for (const e of info.rejectedErrors) say(`recipient refused: ${(e.response || e.message).trim()}`);
      return info.rejectedErrors.every((e) => (e.responseCode ?? 0) >= 500) ? SENDMAIL_EXIT.NOUSER : SENDMAIL_EXIT.TEMPFAIL;
    }
    return SENDMAIL_EXIT.OK;
  } catch (err) {
    const e = err as SmtpFailure;
    const code = exitCodeOf(e);
    const detail = e.rejectedErrors?.length ? e.rejectedErrors.map((r) => (r.response || r.message).trim()).join('; ') : (e.response || e.message).trim();
    say(code === SENDMAIL_EXIT.TEMPFAIL ? `cannot submit to Postroom at ${smtp.host}:${smtp.port}, try again later: ${detail}` : `message refused by Postroom: ${detail}`);
    return code;
  } finally {
    transport.close();
  }
}
