/**
 * DATA_DIR/maildrop on disk: where the sendmail drop-in leaves messages for Postroom to pick up.
 *
 * Permissions, as Postfix's maildrop before postdrop: the directory is writable by every local
 * user (any cron job may send mail) but not listable (mode 3733: setgid, sticky, -wx for others),
 * so a user can neither read nor remove another's files. Files are created 0600 under a random
 * name (a UUID and the writer's pid) and turned 0640 once complete; the setgid bit gives them
 * Postroom's group, so Postroom reads them and other users cannot. A file's owner is the user
 * who sent it.
 */
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export interface DropEntry {
  name: string;
  path: string;
  /** Who wrote it (the kernel's word, not the file's). */
  uid: number;
  /** When the drop-in finished writing it: the message's arrival time. */
  mtime: Date;
  /** 0640: written and acknowledged; 0600: being written (or its writer died). */
  complete: boolean;
}

/**
 * Whether the drop-in that writes an incomplete file still runs: its pid ends the file's name
 * (`<uuid>.<pid>`). A live process counts, another user's too (EPERM); a name without a pid
 * (an older drop-in) counts as gone. A reused pid only makes a dead writer's file wait longer.
 */
export function writerAlive(entry: DropEntry): boolean {
  const pid = Number(/\.(\d{1,10})$/.exec(entry.name)?.[1] ?? 0);
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type DropRead = { data: Buffer } | { problem: 'unreadable' | 'not-a-file' | 'too-big' | 'gone'; detail: string };

/** Directory mode: setgid + sticky, the owner may do anything, others only create files in it. */
const MAILDROP_MODE = 0o3733;

export class MaildropDirectory {
  readonly path: string;
  readonly asidePath: string;

  constructor(dataDir: string) {
    this.path = path.join(dataDir, 'maildrop');
    this.asidePath = path.join(dataDir, 'maildrop.corrupt');
  }

  /**
   * Creates the maildrop when missing (an existing one keeps the mode its administrator gave
   * it), and lets every user reach it through DATA_DIR (traverse only: DATA_DIR stays unlisted
   * for others when it was).
   */
  async ensure(): Promise<void> {
    const dataDir = path.dirname(this.path);
    await mkdir(dataDir, { recursive: true });
    const mode = (await stat(dataDir)).mode & 0o7777;
    if ((mode & 0o001) === 0) await chmod(dataDir, mode | 0o001);
    try {
      await mkdir(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw err;
    }
    await chmod(this.path, MAILDROP_MODE); // mkdir's mode is cut by the umask
  }

  /** The files in the maildrop, oldest first (dot files and anything but plain files skipped). */
  async list(): Promise<DropEntry[]> {
    const names = await readdir(this.path);
    const entries: DropEntry[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = path.join(this.path, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue; // taken meanwhile
      entries.push({ name, path: p, uid: st.uid, mtime: st.mtime, complete: st.isFile() ? (st.mode & 0o040) !== 0 : true });
    }
    return entries.sort((a, b) => a.mtime.getTime() - b.mtime.getTime() || a.name.localeCompare(b.name));
  }

  /**
   * Reads a file without following a link, opening a pipe or device, or taking a hard link to
   * someone else's file (every user can put names here).
   */
  async read(entry: DropEntry, maxBytes: number): Promise<DropRead> {
    let handle;
    try {
      handle = await open(entry.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { problem: 'gone', detail: 'taken meanwhile' };
      if (code === 'ELOOP') return { problem: 'not-a-file', detail: 'a symbolic link' };
      return { problem: 'unreadable', detail: `${code ?? ''} ${(err as Error).message}`.trim() };
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { problem: 'not-a-file', detail: 'not a regular file' };
      if (st.nlink !== 1) return { problem: 'not-a-file', detail: `a file with ${st.nlink} links` };
      if (st.size > maxBytes) return { problem: 'too-big', detail: `${st.size} bytes` };
      return { data: await handle.readFile() };
    } finally {
      await handle.close();
    }
  }

  /** Removes a file once its message is committed (or a name that is no file of ours). */
  async remove(entry: DropEntry): Promise<void> {
    await unlink(entry.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Moves a file that cannot be queued out of the way (DATA_DIR/maildrop.corrupt, 0700); returns where. */
  async moveAside(entry: DropEntry): Promise<string> {
    await mkdir(this.asidePath, { recursive: true, mode: 0o700 });
    const target = path.join(this.asidePath, entry.name);
    await rename(entry.path, target);
    return target;
  }
}
