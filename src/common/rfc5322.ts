/** Pieces of RFC 5322 (message format) shared by intake and delivery. Pure functions. */

/** A header field's first line: a name (printable ASCII but the colon), blanks allowed before the colon. */
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;
/** The message's first line must be a field with no blank before the colon to start a header block. */
const FIRST_FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+:/;

/**
 * Splits a message into its header block and its body (CRLF or bare LF). The header block ends
 * at the blank line, which belongs to neither; or, as Postfix reads it, at the first line that
 * is neither a field nor a field's continuation, which starts the body (`(echo "Subject: df";
 * df -h) | sendmail root` has no blank line). A message whose first line is no field has no
 * header block. With `whole` false (the first chunks of a message still arriving), a last line
 * not yet ended decides nothing: the head is then all of it, and the caller reads on.
 */
export function splitHeaders(raw: Buffer, whole = true): { head: Buffer; body: Buffer } {
  let pos = 0;
  while (pos < raw.length) {
    const lf = raw.indexOf(0x0a, pos);
    if (lf === -1 && !whole) break;
    const end = lf === -1 ? raw.length : lf + 1;
    // A CR ends a line only before its LF: a last "\r" with no LF after it is no blank line.
    const text = raw.toString('latin1', pos, lf === -1 ? raw.length : lf);
    const line = lf === -1 ? text : text.replace(/\r$/, '');
    if (pos === 0 && !FIRST_FIELD_LINE.test(line)) return { head: Buffer.alloc(0), body: raw };
    if (line === '') return { head: raw.subarray(0, pos), body: raw.subarray(end) };
    if (!FIELD_LINE.test(line) && !/^[ \t]/.test(line)) return { head: raw.subarray(0, pos), body: raw.subarray(pos) };
    pos = end;
  }
  return { head: raw, body: Buffer.alloc(0) };
}

/** RFC 5322 date-time, e.g. "Sun, 22 Nov 2026 03:15:19 +0000". */
export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
