import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMaildropFile } from '../../src/intake/maildrop/maildrop-file.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DROP_IN = path.join(ROOT, 'bin', 'postroom-sendmail');
const asRoot = process.getuid?.() === 0;

/**
 * The sendmail drop-in (a POSIX shell script) on a real file system: what it writes into the
 * maildrop, its permissions, its exit codes, and where it finds DATA_DIR. Postroom's pickup of
 * these files is in test/e2e/sendmail.e2e.spec.ts.
 */
describe('bin/postroom-sendmail', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'postroom-drop-in-'));
  let dataDir = '';
  let n = 0;
  chmodSync(base, 0o755);

  const run = (args: string[], input: string | Buffer, env: Record<string, string> = {}, script = DROP_IN) => {
    const r = spawnSync(script, args, { env: { PATH: '/usr/bin:/bin', POSTROOM_CONFIG: '/dev/null', DATA_DIR: dataDir, ...env }, input, timeout: 10_000 });
    return { code: r.status, err: r.stderr.toString() };
  };
  const files = () => readdirSync(path.join(dataDir, 'maildrop')).map((name) => path.join(dataDir, 'maildrop', name));
  const only = () => {
    const list = files();
    expect(list).toHaveLength(1);
    return list[0]!;
  };

  beforeEach(() => {
    dataDir = path.join(base, `d${++n}`);
    mkdirSync(path.join(dataDir, 'maildrop'), { recursive: true });
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'maildrop'), 0o3733);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('keeps the envelope and the message byte for byte (8-bit, no final newline) in a complete (0640) file, exit 0', () => {
    const message = Buffer.from('Subject: caf\xe9\n\nna\xefve\n.\nno newline at the end', 'latin1');
    const r = run(['-FCron Daemon', '-i', '-B8BITMIME', '-oem', '-odi', '-N', 'never', '-t', '-f', 'root', 'a@x.example,b@x.example', '--', '-odd@x.example'], message);
    expect(r, r.err).toEqual({ code: 0, err: '' });
    const file = only();
    // A UUID and the writer's pid (the pickup leaves a file alone while its writer runs).
    expect(path.basename(file)).toMatch(/^[0-9a-f-]{36}\.\d+$/);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const parsed = parseMaildropFile(readFileSync(file));
    expect(parsed).toMatchObject({ extractRecipients: true, ignoreDots: true, sender: 'root', fullName: 'Cron Daemon', recipients: ['a@x.example,b@x.example', '-odd@x.example'] });
    expect(parsed.message.equals(message)).toBe(true);
  });

  it('records -f with an attached value, an empty -f (the null sender), -oi and no -t', () => {
    expect(run(['-oi', '-fbackup@nas.example', 'a@x.example'], 'x').code).toBe(0);
    expect(parseMaildropFile(readFileSync(only()))).toMatchObject({ extractRecipients: false, ignoreDots: true, sender: 'backup@nas.example', recipients: ['a@x.example'] });
    rmSync(only());
    expect(run(['-f', '', 'a@x.example'], 'x').code).toBe(0);
    expect(parseMaildropFile(readFileSync(only())).sender).toBe('');
  });

  it('reads grouped flags as getopt does (-ti, -tif root, -it, -oit, -A with its value), as PHP and cron scripts pass them', () => {
    const cases: [string[], object][] = [
      [['-ti'], { extractRecipients: true, ignoreDots: true, recipients: [] }],
      [['-tif', 'root'], { extractRecipients: true, ignoreDots: true, sender: 'root' }],
      [['-it'], { extractRecipients: true, ignoreDots: true }],
      [['-oit', 'a@x.example'], { extractRecipients: false, ignoreDots: true, recipients: ['a@x.example'] }],
      [['-A', 'm', '-c', '-x', 'a@x.example'], { extractRecipients: false, ignoreDots: false, recipients: ['a@x.example'] }],
      [['a@x.example', '-oi'], { ignoreDots: true, recipients: ['a@x.example'] }],
    ];
    for (const [args, expected] of cases) {
      const r = run(args, 'To: a@x.example\nSubject: s\n\nbody\n');
      expect(r, JSON.stringify(args)).toEqual({ code: 0, err: '' });
      expect(parseMaildropFile(readFileSync(only())), JSON.stringify(args)).toMatchObject(expected);
      rmSync(only());
    }
    expect(run(['-I'], '').code).toBe(0); // newaliases
  });

  it('exits 64 with -t when no header names a recipient (To, Cc, Bcc; the header block ends at the first line that is no field), and keeps nothing', () => {
    for (const message of ['Subject: s\n\nTo: not@a.header\n', 'Subject: s\nTo:   \n\nbody\n', 'Subject: df\nFilesystem Size\nTo: a@x.example\n']) {
      const r = run(['-t'], message);
      expect(r.code, message).toBe(64);
      expect(r.err).toBe("sendmail: no recipient addresses found in the message's To, Cc or Bcc headers (-t)\n");
    }
    expect(files()).toEqual([]);
    for (const message of ['Subject: s\r\nBcc: a@x.example\r\n\r\nb\r\n', 'From root  Thu Dec  4 17:00:00 2026\nCc:\n  a@x.example\n\nb\n']) {
      expect(run(['-t'], message).code, message).toBe(0);
      rmSync(only());
    }
  });

  it('exits 64 for bad usage and writes nothing', () => {
    for (const args of [[], ['-Z'], ['-f'], ['-t7'], ['-bd'], ['-q15m'], ['a@x.example\nBcc: b@x.example'], ['-F', 'name\r', 'a@x.example']]) {
      const r = run(args, 'Subject: x\n\nbody\n');
      expect(r.code, JSON.stringify(args)).toBe(64);
      expect(r.err).toMatch(/^sendmail: .+\nusage: sendmail/);
    }
    expect(files()).toEqual([]);
  });

  it('exits 0 for newaliases (-bi): the aliases are in Postroom\'s settings', () => {
    expect(run(['-bi'], '').code).toBe(0);
  });

  it('exits 75 with a one-line reason when the message cannot be kept, and 78 when its configuration cannot be read', () => {
    const missing = run(['a@x.example'], 'x', { DATA_DIR: path.join(base, 'nowhere') });
    expect(missing.code).toBe(75);
    expect(missing.err).toMatch(/^sendmail: cannot keep the message: .*nowhere\/maildrop does not exist .*\n$/);
    const config = run(['a@x.example'], 'x', { DATA_DIR: '', POSTROOM_CONFIG: path.join(base, 'missing.env') });
    expect(config.code).toBe(78);
    expect(config.err).toMatch(/cannot read .*missing\.env: no such file/);
  });

  it.runIf(asRoot)('lets any user submit (a file of their own that other users cannot read) and says why when it cannot (exit 75)', () => {
    // A copy every user can read: the checkout itself may sit in a private directory.
    const script = path.join(base, 'postroom-sendmail');
    copyFileSync(DROP_IN, script);
    chmodSync(script, 0o755);
    const nobody = (env: Record<string, string> = {}) => {
      const r = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', script, 'a@x.example'], { env: { PATH: '/usr/bin:/bin', POSTROOM_CONFIG: '/dev/null', DATA_DIR: dataDir, ...env }, input: 'Subject: x\n\nbody\n' });
      return { code: r.status, err: r.stderr.toString() };
    };
    expect(nobody()).toEqual({ code: 0, err: '' });
    const st = statSync(only());
    expect(st.uid).not.toBe(0);
    expect(st.gid).toBe(statSync(path.join(dataDir, 'maildrop')).gid); // the setgid directory's group: Postroom's
    expect(st.mode & 0o777).toBe(0o640);
    chmodSync(path.join(dataDir, 'maildrop'), 0o1755);
    const denied = nobody();
    expect(denied.code).toBe(75);
    expect(denied.err).toMatch(/^sendmail: cannot keep the message in .*: Permission denied\n$/);
  });

  it('finds DATA_DIR in the configuration file (quotes, export, CRLF) when the environment has none; the environment wins', () => {
    const conf = path.join(base, 'postroom.env');
    writeFileSync(conf, `# Postroom\r\nHTTP_PORT=8025\r\nexport DATA_DIR = "${dataDir}"\r\n`);
    expect(run(['a@x.example'], 'x', { DATA_DIR: '', POSTROOM_CONFIG: conf }).code).toBe(0);
    expect(files()).toHaveLength(1);
    expect(run(['a@x.example'], 'x', { DATA_DIR: path.join(base, 'nowhere'), POSTROOM_CONFIG: conf }).code).toBe(75);
  });

  it('takes a relative DATA_DIR from its installation directory, like the service, whatever the working directory', () => {
    const name = `.drop-in-test-${process.pid}`;
    const dir = path.join(ROOT, name);
    mkdirSync(path.join(dir, 'maildrop'), { recursive: true });
    try {
      const r = spawnSync(DROP_IN, ['a@x.example'], { cwd: os.tmpdir(), env: { PATH: '/usr/bin:/bin', POSTROOM_CONFIG: '/dev/null', DATA_DIR: name }, input: 'x' });
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(readdirSync(path.join(dir, 'maildrop'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
