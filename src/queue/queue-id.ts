import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZ'; // no vowels: ids never spell words

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
  const random = randomBytes(8);
  let tail = '';
  for (const byte of random) tail += ALPHABET[byte % ALPHABET.length];
  return time + tail;
}

export function isQueueId(value: string): boolean {
  return /^[0-9BCDFGHJKLMNPQRSTVWXYZ]{17}$/.test(value);
}
