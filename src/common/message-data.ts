import { isAscii } from 'node:buffer';
/**
 * A big message's bytes as parts — our new header block, then the DATA chunks as they came —
 * never joined into one buffer, so it is held once from intake to the relay.
 */
export class MessageParts {
  readonly length: number;

  constructor(readonly parts: Buffer[]) {
    this.length = parts.reduce((n, p) => n + p.length, 0);
  }
}

/** A message's bytes: one Buffer, or (a big one) its parts. */
export type MessageData = Buffer | MessageParts;

/** The message in order, as views of at most `max` bytes: nothing is copied. */
export function* slices(data: MessageData, max: number): Generator<Buffer> {
  for (const part of Buffer.isBuffer(data) ? [data] : data.parts) {
    for (let at = 0; at < part.length; at += max) yield part.subarray(at, at + max);
  }
}

/** The whole message in one Buffer: the Buffer itself, or the parts joined (for the few uses that need one). */
export function wholeMessage(data: MessageData): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.concat(data.parts, data.length);
}

/** Bytes that begin with the message's header block (of a parts message: its first part, exactly that block). */
export function headerSource(data: MessageData): Buffer {
  return Buffer.isBuffer(data) ? data : (data.parts[0] ?? Buffer.alloc(0));
}

/**
 * Bodies above this size never travel as one piece between Postroom and PostgreSQL: they are
 * stored with COPY in slices and read back in slices, so a big message is not copied whole into
 * protocol buffers (nor, on the way back, into a hex string twice its size).
 */
export const STREAMED_BODY_BYTES = 1024 * 1024;

/** Whether any byte of the message is above 0x7f. */
export function hasEightBit(data: MessageData): boolean {
  // isAscii is native (simdutf): it runs on every send to a relay without 8BITMIME and every storm digest.
  return !(Buffer.isBuffer(data) ? [data] : data.parts).every((part) => isAscii(part));
}

/** RFC 5321 §4.5.3.1.6 and RFC 5322 §2.1.1: a line is at most 998 octets, its CRLF excluded. */
export const MAX_LINE_OCTETS = 998;

/** Whether a line (between line feeds, its CR included) is longer than MAX_LINE_OCTETS; a native search per line. */
export function hasLongLine(data: MessageData): boolean {
  let run = 0; // octets since the last line feed, across parts
  for (const part of Buffer.isBuffer(data) ? [data] : data.parts) {
    let from = 0;
    for (;;) {
      const lf = part.indexOf(0x0a, from);
      const end = lf === -1 ? part.length : lf;
      run += end - from;
      if (run - (lf !== -1 && end > 0 && part[end - 1] === 0x0d ? 1 : 0) > MAX_LINE_OCTETS) return true;
      if (lf === -1) break;
      run = 0;
      from = lf + 1;
    }
  }
  return false;
}

