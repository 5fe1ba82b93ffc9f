import { readFileSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** DATA_DIR is held by another running Postroom. */
export class DataDirInUse extends Error {}

/** Whether `pid` is a live process started as this one was (the same script: a reused pid is not). */
function isPostroom(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const script = path.basename(process.argv[1] ?? 'main.js');
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => path.basename(arg) === script);
  } catch {
    return true; // alive, and no /proc to tell: taken as held
  }
}

/**
 * Takes DATA_DIR for this process (DATA_DIR/postroom.pid, created exclusively), so that a second
 * Postroom on the same directory refuses to start rather than stop the first one's embedded
 * PostgreSQL or pick up its maildrop files. A file left by a process that is gone (kill -9, a
 * crash) is taken over. Resolves with the release, which removes the file.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'postroom.pid');
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, mine, { flag: 'wx', mode: 0o644 });
      return async () => {
        if ((await readFile(file, 'utf8').catch(() => '')) === mine) await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = await readFile(file, 'utf8').catch(() => '');
    const pid = Number.parseInt(held, 10);
    if (pid > 0 && pid !== process.pid && isPostroom(pid)) throw new DataDirInUse(`in use by another Postroom (pid ${pid})`);
    // Left by a process that is gone: removed unless another start took it meanwhile.
    if ((await readFile(file, 'utf8').catch(() => '')) === held) await unlink(file).catch(() => undefined);
  }
  throw new DataDirInUse(`in use by another Postroom`);
}
