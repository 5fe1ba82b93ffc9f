import { readFileSync } from 'node:fs';

/**
 * The user name of a uid, from /etc/passwd (Node has no getpwuid): the sender of a maildrop
 * file written without -f. Read again at most once a minute, so a user added later is found.
 */
let cache: { at: number; names: Map<number, string> } | undefined;

export function userName(uid: number, now = Date.now()): string {
  if (!cache || now - cache.at > 60_000) cache = { at: now, names: readPasswd() };
  return cache.names.get(uid) ?? (uid === 0 ? 'root' : `uid${uid}`);
}

function readPasswd(): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}
