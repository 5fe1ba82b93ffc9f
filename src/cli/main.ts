#!/usr/bin/env node
// Only what every command needs is imported here; the rest comes with the command that uses it
// (sendmail): a queue command should start in about the time of node itself.
// The build bundles this entry into one CommonJS file (rolldown.config.mjs), what `postroom` runs;
// test/e2e/cli.e2e.spec.ts checks which files each command loads.
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import { loadClientConfig } from '../config/client-config.js';
import { ConfigError } from '../config/config-error.js';
import type { QueueEntryView } from '../queue/queue.view.js';
import type { DailyReport } from '../reports/report.types.js';
import { ApiClient, ApiError, UnreachableError, cliToken } from './api-client.js';
import { formatMailq } from './mailq-format.js';

/** sysexits.h, as sendmail and postqueue use them. */
export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_TEMPFAIL = 75;

function client(): ApiClient {
  const config = loadClientConfig();
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host === '::' ? '[::1]' : config.http.host;
  const url = process.env.POSTROOM_URL ?? `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${config.http.port}`;
  return new ApiClient(url.replace(/\/$/, ''), cliToken(config.apiToken, config.dataDir));
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');

function program(): Command {
  const p = new Command('postroom')
    .description('Postroom command line: the queue of a running Postroom, through its API')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  p.command('mailq')
    .description('list the queue (newest first), as Postfix mailq does')
    .option('--state <state>', 'queued | deferred | hold | sending')
    .option('--address <text>', 'only messages whose sender or a recipient contains this')
    .option('--all', 'every message, not only the first 500')
    .option('--json', 'JSON lines, one message per line')
    .action(async (o: { state?: string; address?: string; all?: boolean; json?: boolean }) => {
      const api = client();
      const items: QueueEntryView[] = [];
      let cursor: string | null = null;
      do {
        const qs = new URLSearchParams({ limit: '500' });
        if (o.state) qs.set('state', o.state);
        if (o.address) qs.set('address', o.address);
        if (cursor) qs.set('cursor', cursor);
        const page: { items: QueueEntryView[]; nextCursor: string | null } = await api.request('GET', `/api/v1/queue?${qs}`);
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (o.all && cursor);
      if (o.json) out(items.map((m) => JSON.stringify(m)).join('\n'));
      else out(formatMailq(items, cursor !== null));
    });

  p.command('flush [id]')
    .description('make every deferred message (or one) due now')
    .action(async (id?: string) => {
      const api = client();
      if (id) {
        await api.request('POST', `/api/v1/queue/${encodeURIComponent(id)}/flush`);
        out(`${id}: flushed`);
      } else {
        const r: { count: number } = await api.request('POST', '/api/v1/queue/flush');
        out(`flushed ${r.count} message(s)`);
      }
    });

  p.command('delete <target>')
    .description('delete one message by id, or ALL queued, deferred and held messages')
    .action(async (target: string) => {
      const api = client();
      const r: { count: number } = await api.request('DELETE', target === 'ALL' ? '/api/v1/queue' : `/api/v1/queue/${encodeURIComponent(target)}`);
      out(`deleted ${r.count} message(s)`);
    });

  for (const [name, verb] of [['hold', 'put on hold'], ['release', 'released']] as const) {
    p.command(`${name} <id>`)
      .description(name === 'hold' ? 'keep a message from delivery until released' : 'let a held message be delivered')
      .action(async (id: string) => {
        await client().request('POST', `/api/v1/queue/${encodeURIComponent(id)}/${name}`);
        out(`${id}: ${verb}`);
      });
  }
  p.command('report <day>')
    .description('the daily report for today, yesterday or a date (YYYY-MM-DD), in the server\'s time zone')
    .option('--json', 'the report as JSON')
    .option('--top <n>', 'rows in the top-N lists (default 10)')
    .action(async (day: string, o: { json?: boolean; top?: string }) => {
      const qs = new URLSearchParams();
      if (o.top) qs.set('top', o.top);
      // The text is the API's own ?format=text export, formatted by the server.
      if (!o.json) qs.set('format', 'text');
      const url = `/api/v1/reports/${encodeURIComponent(day)}${qs.size ? '?' + qs : ''}`;
      out(o.json ? JSON.stringify(await client().request<DailyReport>('GET', url), null, 2) : await client().text(url));
    });

  // Registered for the help; run() hands `sendmail` to runSendmail before commander parses,
  // because sendmail's options (-oi, -FCronDaemon, -f root …) are not commander's.
  p.command('sendmail')
    .description('read a message on stdin and queue it, like /usr/sbin/sendmail: [-t] [-i] [-f sender] [-F name] [recipient...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (_o: unknown, cmd: Command) => {
      process.exitCode = await (await import('./sendmail.js')).runSendmail(cmd.args);
    });
  return p;
}

/**
 * Whether the command line may ask for sendmail, by the two ways sendmailArgs knows (the program's
 * name, the `sendmail` command), loosely: sendmail.js then decides. Only then is it loaded, with
 * all it imports: the queue commands do without it.
 */
function maybeSendmail(argv: string[]): boolean {
  return path.basename(argv[1] ?? '').includes('sendmail') || argv[2] === 'sendmail';
}

export async function run(argv: string[]): Promise<number> {
  if (maybeSendmail(argv)) {
    const { runSendmail, sendmailArgs } = await import('./sendmail.js');
    const sendmail = sendmailArgs(argv);
    if (sendmail) return runSendmail(sendmail);
  }
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EX_USAGE;
    if (err instanceof ConfigError) {
      process.stderr.write(`postroom: ${err.message}\n`);
      return EX_USAGE;
    }
    if (err instanceof UnreachableError) {
      process.stderr.write(`postroom: ${err.message}\n`);
      return EX_TEMPFAIL;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`postroom: ${err.message}\n`);
      return err.status === 400 || err.status === 404 || err.status === 409 ? EX_USAGE : err.status >= 500 ? EX_TEMPFAIL : EX_UNAVAILABLE;
    }
    process.stderr.write(`postroom: ${(err as Error).message}\n`);
    return EX_SOFTWARE;
  }
}

// No top-level await: the bundle is CommonJS.
void run(process.argv).then((code) => (process.exitCode = code));
