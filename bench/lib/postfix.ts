import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { alive, descendants, run, sleep, until } from './util.js';

export const POSTFIX_TOOLS = ['/usr/sbin/postfix', '/usr/sbin/smtp-source', '/usr/sbin/smtp-sink', '/usr/sbin/postconf'];

export const INSTALL_HINT = `Postfix's tools are missing. As root:
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix`;

/** Installs Debian's postfix package (smtp-source, smtp-sink, postfix) when missing; root only. */
export async function ensurePostfixTools(log: (s: string) => void): Promise<void> {
  if (POSTFIX_TOOLS.every((f) => existsSync(f))) return;
  if (process.getuid?.() !== 0) throw new Error(INSTALL_HINT);
  log('installing Debian\'s postfix package (No configuration: nothing is started, no main.cf is written)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const pre = await run('debconf-set-selections', [], { input: 'postfix postfix/main_mailer_type select No configuration\n', env });
  if (pre.code !== 0) throw new Error(`debconf-set-selections failed: ${pre.stderr}`);
  let inst = await run('apt-get', ['install', '-y', '--no-install-recommends', 'postfix'], { env, timeoutMs: 600_000 });
  if (inst.code !== 0) {
    await run('apt-get', ['update'], { env, timeoutMs: 600_000 });
    inst = await run('apt-get', ['install', '-y', '--no-install-recommends', 'postfix'], { env, timeoutMs: 600_000 });
  }
  if (inst.code !== 0 || !POSTFIX_TOOLS.every((f) => existsSync(f))) throw new Error(`apt-get install postfix failed:\n${inst.stderr}\n${INSTALL_HINT}`);
}

export async function postfixVersion(): Promise<string> {
  const r = await run('/usr/sbin/postconf', ['-d', '-h', 'mail_version'], { env: { ...process.env, MAIL_CONFIG: '/etc/postfix' } });
  return r.stdout.trim() || 'unknown';
}

/** A fingerprint of /etc/postfix (names, sizes, times) to prove the bench left it alone. */
export async function etcPostfixFingerprint(): Promise<string> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number) => {
    if (depth > 4) return;
    let entries: string[] = [];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e);
      const s = await stat(p).catch(() => undefined);
      if (!s) continue;
      out.push(`${p} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) await walk(p, depth + 1);
    }
  };
  await walk('/etc/postfix', 0);
  return out.join('\n');
}

const MASTER_CF = (listen: string) => `# Postroom bench: a private Postfix instance (no chroot, no local delivery, no pickup of local mail)
${listen} inet  n  -  n  -  -  smtpd
pickup    unix  n  -  n  60    1  pickup
cleanup   unix  n  -  n  -     0  cleanup
qmgr      unix  n  -  n  300   1  qmgr
rewrite   unix  -  -  n  -     -  trivial-rewrite
bounce    unix  -  -  n  -     0  bounce
defer     unix  -  -  n  -     0  bounce
trace     unix  -  -  n  -     0  bounce
verify    unix  -  -  n  -     1  verify
flush     unix  n  -  n  1000? 0  flush
proxymap  unix  -  -  n  -     -  proxymap
proxywrite unix -  -  n  -     1  proxymap
smtp      unix  -  -  n  -     -  smtp
relay     unix  -  -  n  -     -  smtp
showq     unix  n  -  n  -     -  showq
error     unix  -  -  n  -     -  error
retry     unix  -  -  n  -     -  error
discard   unix  -  -  n  -     -  discard
anvil     unix  -  -  n  -     1  anvil
scache    unix  -  -  n  -     1  scache
postlog   unix-dgram n - n  -    1  postlogd
`;

/**
 * A private Postfix: its own config, queue and data directories under a temporary directory, an
 * smtpd on a free loopback port, every message relayed to [127.0.0.1]:relayPort. The system's
 * /etc/postfix is only read (postfix-files, as meta_directory), never written.
 */
export class PostfixInstance {
  dir = '';
  private masterPid?: number;

  constructor(readonly smtpPort: number, private relayPort: number) {}

  get confDir(): string {
    return path.join(this.dir, 'conf');
  }

  get maillog(): string {
    return path.join(this.dir, 'maillog');
  }

  mainCf(): string {
    const d = this.dir;
    return `# Postroom bench: a private Postfix instance (see bench/lib/postfix.ts)
compatibility_level = 3.6
config_directory = ${d}/conf
queue_directory = ${d}/queue
data_directory = ${d}/data
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
command_directory = /usr/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.localdomain
mydomain = localdomain
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
relayhost = [127.0.0.1]:${this.relayPort}
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file_prefixes = ${d}
maillog_file = ${d}/maillog
biff = no
`;
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'postroom-bench-postfix-'));
    await chmod(this.dir, 0o755);
    await mkdir(path.join(this.dir, 'conf'));
    await mkdir(path.join(this.dir, 'queue'));
    await mkdir(path.join(this.dir, 'data'));
    const { uid, gid } = await postfixIds();
    await chown(path.join(this.dir, 'data'), uid, gid);
    await writeFile(path.join(this.confDir, 'main.cf'), this.mainCf());
    await writeFile(path.join(this.confDir, 'master.cf'), MASTER_CF(`127.0.0.1:${this.smtpPort}`));
    const check = await run('/usr/sbin/postfix', ['-c', this.confDir, 'check'], { timeoutMs: 60_000 });
    if (check.code !== 0) throw new Error(`postfix check failed (${check.code}):\n${check.stderr}${await this.logTail()}`);
    const start = await run('/usr/sbin/postfix', ['-c', this.confDir, 'start'], { timeoutMs: 60_000 });
    if (start.code !== 0) throw new Error(`postfix start failed (${start.code}):\n${start.stderr}${await this.logTail()}`);
    this.masterPid = await until(async () => {
      const raw = await readFile(path.join(this.dir, 'queue', 'pid', 'master.pid'), 'utf8').catch(() => '');
      const pid = Number(raw.trim());
      return pid > 0 && alive(pid) ? pid : undefined;
    }, 'the Postfix master', 10_000, 100);
    await until(async () => (await this.logTail()).includes('daemon started'), 'Postfix to start', 10_000, 100);
    return this;
  }

  private async logTail(): Promise<string> {
    return readFile(this.maillog, 'utf8').then((s) => '\n' + s.slice(-2000), () => '');
  }

  /** Points the relay elsewhere (postconf -e, postfix reload). */
  async setRelay(port: number): Promise<void> {
    this.relayPort = port;
    const e = await run('/usr/sbin/postconf', ['-c', this.confDir, '-e', `relayhost = [127.0.0.1]:${port}`]);
    if (e.code !== 0) throw new Error(`postconf -e failed: ${e.stderr}`);
    const r = await run('/usr/sbin/postfix', ['-c', this.confDir, 'reload']);
    if (r.code !== 0) throw new Error(`postfix reload failed: ${r.stderr}${await this.logTail()}`);
    await sleep(500);
  }

  /** Messages still in the queue (incoming, active, deferred, hold: files under those directories). */
  async queuedFiles(): Promise<number> {
    let n = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > 3) return;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.isDirectory()) await walk(path.join(dir, e.name), depth + 1);
        else n++;
      }
    };
    for (const q of ['maildrop', 'incoming', 'active', 'deferred', 'hold']) await walk(path.join(this.dir, 'queue', q), 0);
    return n;
  }

  /** The processes of this instance (master and its children). */
  async pids(): Promise<number[]> {
    if (!this.masterPid || !alive(this.masterPid)) return [];
    return [this.masterPid, ...(await descendants(this.masterPid))];
  }

  /** postfix stop; then makes sure no process of ours is left, and removes the directory. */
  async dispose(): Promise<string[]> {
    const notes: string[] = [];
    if (!this.dir) return notes;
    const pids = await this.pids().catch(() => []);
    if (pids.length) {
      const stop = await run('/usr/sbin/postfix', ['-c', this.confDir, 'stop'], { timeoutMs: 30_000 });
      if (stop.code !== 0) notes.push(`postfix stop: ${stop.stderr.trim()}`);
      const deadline = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < deadline) await sleep(100);
      for (const pid of pids.filter(alive)) {
        notes.push(`killed leftover Postfix process ${pid}`);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (!process.env.BENCH_KEEP) await rm(this.dir, { recursive: true, force: true });
    else notes.push(`kept ${this.dir} (BENCH_KEEP)`);
    return notes;
  }
}

async function postfixIds(): Promise<{ uid: number; gid: number }> {
  const u = await run('id', ['-u', 'postfix']);
  const g = await run('id', ['-g', 'postfix']);
  if (u.code !== 0 || g.code !== 0) throw new Error('no "postfix" user: is the postfix package installed?');
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}
