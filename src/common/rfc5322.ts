/** Pieces of RFC 5322 (message format) shared by intake and delivery. Pure functions. */

const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+:/;

/** Splits a message at the blank line that ends the header block (CRLF or bare LF). */
export function splitHeaders(raw: Buffer): { head: Buffer; body: Buffer } {
  const firstLineEnd = raw.indexOf(0x0a);
  const firstLine = raw.subarray(0, firstLineEnd === -1 ? raw.length : firstLineEnd).toString('latin1');
  if (!HEADER_LINE.test(firstLine)) return { head: Buffer.alloc(0), body: raw };
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return { head: raw, body: Buffer.alloc(0) };
  if (crlf !== -1 && (lf === -1 || crlf + 1 <= lf)) return { head: raw.subarray(0, crlf + 2), body: raw.subarray(crlf + 4) };
  return { head: raw.subarray(0, lf + 1), body: raw.subarray(lf + 2) };
}

/** RFC 5322 date-time, e.g. "Sun, 22 Nov 2026 03:15:19 +0000". */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
