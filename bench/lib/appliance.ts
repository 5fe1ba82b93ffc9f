/**
 * Postroom as an appliance component, beside Postfix (issue 15): what one `sendmail` call costs,
 * what a CLI call costs, and how much memory the idle services hold.
 *
 * A call's cost is measured as the shell loop `for 1..N: COMMAND < message` under
 * /usr/bin/time: wall time and CPU (user + system, every child included) divided by N, and the
 * peak RSS of the largest process of the loop. Rounds alternate between the systems.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { descendants, median, run, until } from './util.js';

export interface CallCost {
  wallMs: number;
  cpuMs: number;
  peakKiB: number;
}

export interface CommandCost {
  name: string;
  /** The command as written in RESULTS.md (paths shortened). */
  shown: string;
  rounds: CallCost[];
}

export interface FootprintRow {
  what: string;
  processes: number;
  rssKiB: number;
  pssKiB: number;
  /** Anonymous pages: the processes' own memory (heaps, stacks), without the file pages of their binaries and libraries. */
  anonKiB: number;
}

export interface ApplianceResult {
  calls: number;
  sendmail: CommandCost[];
  cli: CommandCost[];
  footprint: FootprintRow[];
}

/** Runs `command` n times in one shell loop under /usr/bin/time; the cost of one call. */
export async function costOfCalls(command: string, n: number, env: NodeJS.ProcessEnv, input?: string): Promise<CallCost> {
  const script = `i=0; while [ $i -lt ${n} ]; do ${command}${input ? ` < '${input}'` : ''} >/dev/null || exit $?; i=$((i+1)); done`;
  const r = await run('/usr/bin/time', ['-f', 'TIME %e %U %S %M', 'sh', '-c', script], { env, timeoutMs: 600_000 });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`"${command}" failed (${r.code}): ${r.stderr.slice(-500)}`);
  return { wallMs: (Number(m[1]) * 1000) / n, cpuMs: ((Number(m[2]) + Number(m[3])) * 1000) / n, peakKiB: Number(m[4]) };
}

/** Median of each field over the rounds. */
export function medianCost(rounds: CallCost[]): CallCost {
  return { wallMs: median(rounds.map((r) => r.wallMs)), cpuMs: median(rounds.map((r) => r.cpuMs)), peakKiB: median(rounds.map((r) => r.peakKiB)) };
}

/** Alternating rounds of each command; the first round of each is a warm-up and not kept. */
export async function compareCommands(commands: { name: string; shown: string; command: string; env: NodeJS.ProcessEnv; input?: string }[], n: number, rounds: number, log: (s: string) => void): Promise<CommandCost[]> {
  const out = commands.map((c) => ({ name: c.name, shown: c.shown, rounds: [] as CallCost[] }));
  for (let r = 0; r <= rounds; r++) {
    const order = commands.map((_, i) => (i + r) % commands.length);
    for (const i of order) {
      const c = commands[i]!;
      const cost = await costOfCalls(c.command, n, c.env, c.input);
      if (r === 0) continue;
      out[i]!.rounds.push(cost);
      log(`  ${c.name.padEnd(44)} round ${r}: ${cost.wallMs.toFixed(1)} ms wall, ${cost.cpuMs.toFixed(1)} ms CPU, peak ${(cost.peakKiB / 1024).toFixed(1)} MiB`);
    }
  }
  return out;
}

/** RSS, PSS and anonymous memory of processes (kB, from /proc/PID/smaps_rollup). */
export async function memoryOf(pids: number[]): Promise<{ processes: number; rssKiB: number; pssKiB: number; anonKiB: number }> {
  let rssKiB = 0;
  let pssKiB = 0;
  let anonKiB = 0;
  let processes = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    if (!text) continue;
    processes++;
    rssKiB += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    pssKiB += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    anonKiB += Number(/^Anonymous:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { processes, rssKiB, pssKiB, anonKiB };
}

/** A process and its descendants. */
export async function tree(root: number): Promise<number[]> {
  return root ? [root, ...(await descendants(root))] : [];
}

/** The postmaster of an embedded cluster under DATA_DIR/pg (0 when none). */
export async function postmasterOf(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]) || 0;
}

/** The message every sendmail call of the bench sends (cron's kind: -t, a few headers, a line). */
export async function writeCronMessage(file: string, to: string): Promise<void> {
  await writeFile(file, `To: ${to}\nSubject: Cron <root@nas> /usr/local/bin/backup\n\nbackup finished: 42 files, 0 errors\n`);
}

/**
 * The npm modules the compiled server imports statically (every module under dist/src but the
 * CLI's), by the specifiers its import statements name: what the node process loads whatever it
 * does. Dynamic import() (the modules loaded at first use) is left out.
 */
export async function serverImports(distSrc: string): Promise<string[]> {
  const specifiers = new Set<string>();
  const files = (await readdir(distSrc, { recursive: true })).filter((f) => f.endsWith('.js') && !f.startsWith('cli' + path.sep));
  for (const f of files) {
    const text = await readFile(path.join(distSrc, f), 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s(?:[^'";]*?\sfrom\s)?'([^'.][^']*)';/gm)) if (!m[1]!.startsWith('node:')) specifiers.add(m[1]!);
  }
  return [...specifiers].sort();
}

/**
 * The floor under the server's idle memory: a node process (same options as Postroom's) that
 * imports `specifiers` and then does nothing. Resolves once everything is imported.
 */
export async function startImporter(specifiers: string[], cwd: string): Promise<ChildProcess> {
  const script = `for (const m of ${JSON.stringify(specifiers)}) await import(m); process.stdout.write('imported\\n'); setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, env: { ...process.env, MALLOC_ARENA_MAX: '2' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('imported') || child.exitCode !== null, 'the importer to load the modules', 60_000);
  if (child.exitCode !== null) throw new Error(`the importer exited with ${child.exitCode}`);
  return child;
}
