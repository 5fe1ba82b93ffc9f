import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZ'; // no vowels: ids never spell words

/** Random bytes taken 8 at a time from a pool filled 4 KiB at once (one system call per 512 ids). */
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;
function randomTail(): Buffer {
  if (used + 8 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += 8;
  return pool.subarray(used - 8, used);
}

/**
 * A queue id like Postfix's long ids: the time in milliseconds then random characters, so ids
 * sort by arrival and never collide between instances.
 */
export function newQueueId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 9; i++) {
    time = ALPHABET[t % ALPHABET.length] + time;
    t = Math.floor(t / ALPHABET.length);
  }
  const random = randomTail();
  let tail = '';
  for (const byte of random) tail += ALPHABET[byte % ALPHABET.length];
  return time + tail;
}

export function isQueueId(value: string): boolean {
  return /^[0-9BCDFGHJKLMNPQRSTVWXYZ]{17}$/.test(value);
}
