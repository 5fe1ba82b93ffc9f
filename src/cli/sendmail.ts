import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_DIR } from '../config/config-file.js';

/**
 * `postroom sendmail …` and the postroom command invoked as `sendmail`: the shell drop-in
 * (bin/postroom-sendmail) does the work, so there is one writer of the maildrop. Only `-bs`
 * (SMTP on stdin and stdout, as some mailers use it) is answered here, each message handed to
 * the drop-in in turn.
 */
export const DROP_IN = path.join(INSTALL_DIR, 'bin', 'postroom-sendmail');

/** sysexits.h, as /usr/sbin/sendmail answers. */
const EX_USAGE = 64;
const EX_TEMPFAIL = 75;

/**
 * The sendmail arguments when the command line asks for sendmail: invoked as `sendmail` (a
 * symlink to the postroom command) or as `postroom sendmail`.
 */
export function sendmailArgs(argv: string[]): string[] | undefined {
  const invokedAs = path.basename(argv[1] ?? '').replace(/\.(m?js)$/, '');
  if (invokedAs === 'sendmail') return argv.slice(2);
  if (argv[2] === 'sendmail') return argv.slice(3);
  return undefined;
}

/** Hands a message to the drop-in: its exit code and what it said on stderr. */
export function dropIn(args: string[], input: Buffer | 'inherit'): { code: number; stderr: string } {
  const r = spawnSync('/bin/sh', [DROP_IN, ...args], {
    stdio: input === 'inherit' ? 'inherit' : ['pipe', 'inherit', 'pipe'],
    input: input === 'inherit' ? undefined : input,
    maxBuffer: 1024 * 1024,
  });
  if (r.error) return { code: EX_TEMPFAIL, stderr: `sendmail: cannot run ${DROP_IN}: ${r.error.message}\n` };
  return { code: r.status ?? EX_TEMPFAIL, stderr: r.stderr ? r.stderr.toString() : '' };
}

/** Resolves with the exit code. */
export async function runSendmail(argv: string[]): Promise<number> {
  if (!argv.includes('-bs')) return dropIn(argv, 'inherit').code;
  if (argv.some((a) => a !== '-bs' && !/^-(o\w*|i|v|bm|B\w*|N\w*)$/.test(a))) {
    process.stderr.write('sendmail: with -bs, the envelope comes from the SMTP session (no sender or recipients on the command line)\n');
    return EX_USAGE;
  }
  await smtpOnStdio(process.stdin, (text) => process.stdout.write(text));
  return 0;
}

/** One SMTP transaction's envelope and message, as -bs collects it. */
export interface StdioMessage {
  from: string;
  to: string[];
  data: Buffer;
}

/**
 * A local SMTP session on stdin/stdout (sendmail -bs): EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
 * QUIT. Each message goes to `keep` (the drop-in by default); 250 once it is kept, 451 when not.
 */
export async function smtpOnStdio(input: AsyncIterable<Buffer | string>, write: (text: string) => void, keep: (m: StdioMessage) => { ok: boolean; reason: string } = keepWithDropIn): Promise<void> {
  const host = os.hostname();
  const reply = (line: string) => write(line + '\r\n');
  reply(`220 ${host} Postroom ESMTP (sendmail -bs)`);
  let from: string | undefined;
  let to: string[] = [];
  let data: Buffer[] | undefined;
  let pending = Buffer.alloc(0);
  for await (const chunk of input) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    for (let nl = pending.indexOf(0x0a); nl !== -1; nl = pending.indexOf(0x0a)) {
      const raw = pending.subarray(0, nl + 1);
      pending = pending.subarray(nl + 1);
      if (data) {
        const line = raw.toString('latin1').replace(/\r?\n$/, '');
        if (line === '.') {
          const result = keep({ from: from ?? '', to, data: Buffer.concat(data) });
          reply(result.ok ? '250 2.0.0 Ok: kept for delivery' : `451 4.3.0 ${result.reason || 'cannot keep the message now'}`);
          [from, to, data] = [undefined, [], undefined];
        } else data.push(raw[0] === 0x2e ? raw.subarray(1) : raw); // dot-unstuffing
        continue;
      }
      const line = raw.toString('utf8').trim();
      const verb = line.slice(0, 4).toUpperCase();
      const arg = /<([^>]*)>/.exec(line)?.[1];
      if (verb === 'EHLO') write(`250-${host}\r\n250-8BITMIME\r\n250 PIPELINING\r\n`);
      else if (verb === 'HELO') reply(`250 ${host}`);
      else if (verb === 'MAIL' && arg !== undefined && /^MAIL FROM:/i.test(line)) {
        [from, to] = [arg, []];
        reply('250 2.1.0 Ok');
      } else if (verb === 'RCPT' && /^RCPT TO:/i.test(line)) {
        if (from === undefined) reply('503 5.5.1 MAIL first');
        else if (!arg || /[\x00-\x1f]/.test(arg)) reply('501 5.1.3 Bad recipient address syntax');
        else {
          to.push(arg);
          reply('250 2.1.5 Ok');
        }
      } else if (verb === 'DATA') {
        if (!to.length) reply('503 5.5.1 RCPT first');
        else {
          data = [];
          reply('354 End data with <CR><LF>.<CR><LF>');
        }
      } else if (verb === 'RSET') {
        [from, to] = [undefined, []];
        reply('250 2.0.0 Ok');
      } else if (verb === 'NOOP') reply('250 2.0.0 Ok');
      else if (verb === 'VRFY') reply('252 2.0.0 Cannot verify, but will accept');
      else if (verb === 'QUIT') {
        reply('221 2.0.0 Bye');
        return;
      } else reply('502 5.5.2 Command not recognized');
    }
  }
}

function keepWithDropIn(m: StdioMessage): { ok: boolean; reason: string } {
  const r = dropIn(['-i', '-f', m.from, '--', ...m.to], m.data);
  return { ok: r.code === 0, reason: r.stderr.trim().split('\n')[0]?.replace(/^sendmail: /, '') ?? '' };
}
