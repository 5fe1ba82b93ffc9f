/**
 * 8-bit to 7-bit downgrade (RFC 6152 §3): a relay that does not offer 8BITMIME must not be sent
 * 8-bit bytes. Text parts whose body holds 8-bit bytes are re-encoded as quoted-printable, other
 * leaf parts as base64; multiparts are walked part by part (preamble, boundaries and epilogue
 * kept byte for byte); an embedded message is downgraded inside and marked 7bit. A message with
 * no MIME header at all is taken as text/plain. The same re-encoding keeps a body line over 998
 * octets from any relay, 8BITMIME or not. Headers are left as they are: 8-bit header text
 * cannot be downgraded without knowing its charset. Pure: bytes in, bytes out.
 */

import { MAX_LINE_OCTETS } from '../common/message-data.js';

/**
 * The message with every 8-bit body re-encoded, and (with `eightBitOk`, for a relay that offers
 * 8BITMIME) only the bodies with a line over 998 octets, which no relay may be sent either
 * (RFC 5321 §4.5.3.1.6; Postfix breaks them, smtp_line_length_limit): quoted-printable keeps
 * them whole for the reader. The same bytes when nothing needed it.
 */
export function toSevenBit(raw: Buffer, eightBitOk = false): Buffer {
  // latin1 maps each byte to one character and back, so the structure can be worked on as text.
  const text = raw.toString('latin1');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const needs = eightBitOk ? (t: string) => LONG_LINE.test(t) : (t: string) => EIGHT_BIT.test(t) || LONG_LINE.test(t);
  const converted = entity(text, eol, true, needs);
  return converted === text ? raw : Buffer.from(converted, 'latin1');
}

const EIGHT_BIT = /[\x80-\xff]/;
const LONG_LINE = new RegExp(`[^\\r\\n]{${MAX_LINE_OCTETS + 1}}`);

interface Split {
  headers: string;
  separator: string;
  body: string;
}

/** Header block (with its last line break), the empty line, and the body. */
function split(text: string): Split {
  const lead = /^\r?\n/.exec(text);
  if (lead) return { headers: '', separator: lead[0], body: text.slice(lead[0].length) };
  const m = /\r?\n(\r?\n)/.exec(text);
  if (!m) return { headers: text, separator: '', body: '' };
  const end = m.index + m[0].length - m[1]!.length;
  return { headers: text.slice(0, end), separator: m[1]!, body: text.slice(end + m[1]!.length) };
}

/** The unfolded value of a header field, or undefined. */
function field(headers: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\n)${name}[ \\t]*:([^\\n]*(?:\\n[ \\t][^\\n]*)*)`, 'i').exec(headers);
  return m ? m[1]!.replace(/\r?\n[ \t]/g, ' ').trim() : undefined;
}

/** The header block without any Content-Transfer-Encoding field, with `added` fields at its end. */
function withFields(headers: string, eol: string, added: string[]): string {
  const kept = headers.replace(/(^|\n)Content-Transfer-Encoding[ \t]*:[^\n]*\n?(?:[ \t][^\n]*\n?)*/gi, '$1');
  const base = kept === '' || kept.endsWith('\n') ? kept : kept + eol;
  return base + added.map((f) => f + eol).join('');
}

function entity(text: string, eol: string, top: boolean, needs: (text: string) => boolean): string {
  if (!needs(text)) return text;
  const { headers, separator, body } = split(text);
  if (!needs(body)) return text;
  const contentType = field(headers, 'Content-Type');
  const [type = 'text/plain'] = (contentType ?? 'text/plain').toLowerCase().split(/[;\s]/, 1);
  const encoding = (field(headers, 'Content-Transfer-Encoding') ?? '7bit').toLowerCase();

  if (type.startsWith('multipart/')) {
    const boundary = /boundary[ \t]*=[ \t]*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
    const name = boundary?.[1] ?? boundary?.[2];
    if (name) return headers + separator + multipart(body, name, eol, needs);
  }
  if (type === 'message/rfc822' || type === 'message/global') {
    const inner = entity(body, eol, false, needs);
    return withFields(headers, eol, EIGHT_BIT.test(inner) ? [`Content-Transfer-Encoding: ${encoding}`] : ['Content-Transfer-Encoding: 7bit']) + (separator || eol) + inner;
  }
  // Already in a 7-bit encoding: the 8-bit bytes are not the body's (nothing to do safely).
  if (encoding === 'quoted-printable' || encoding === 'base64') return text;

  const isText = type.startsWith('text/');
  const added: string[] = [];
  if (top && contentType === undefined && field(headers, 'MIME-Version') === undefined) {
    // Not MIME at all: say what it is, so the encoding below means something to the reader.
    added.push('MIME-Version: 1.0', `Content-Type: text/plain; charset=${isUtf8(body) ? 'utf-8' : 'unknown-8bit'}`);
  }
  added.push(`Content-Transfer-Encoding: ${isText ? 'quoted-printable' : 'base64'}`);
  return withFields(headers, eol, added) + (separator || eol) + (isText ? quotedPrintable(body, eol) : base64(body, eol));
}

/** Each part between the boundaries downgraded; everything else as it was. */
function multipart(body: string, boundary: string, eol: string, needs: (text: string) => boolean): string {
  const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escaped}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  let out = '';
  let at = 0;
  let inPart = false;
  for (let m = delimiter.exec(body); m; m = delimiter.exec(body)) {
    const segment = body.slice(at, m.index);
    out += inPart ? part(segment, eol, needs) : segment;
    out += m[0];
    at = m.index + m[0].length;
    inPart = !m[1];
    if (m[1]) break;
  }
  const rest = body.slice(at);
  return out + (inPart ? part(rest, eol, needs) : rest);
}

/** A segment after a boundary line: its line break, then the part. */
function part(segment: string, eol: string, needs: (text: string) => boolean): string {
  const lead = /^\r?\n/.exec(segment)?.[0] ?? '';
  return lead + entity(segment.slice(lead.length), eol, false, needs);
}

const HEX = '0123456789ABCDEF';

/** Quoted-printable (RFC 2045 §6.7) of latin1 text, its line breaks kept as hard breaks, lines at most 76 characters. */
export function quotedPrintable(text: string, eol = '\r\n'): string {
  const lines = text.split(/\r?\n/);
  return lines.map((line) => qpLine(line, eol)).join(eol);
}

function qpLine(line: string, eol: string): string {
  let out = '';
  let width = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const last = i === line.length - 1;
    // Whitespace at the end of a line would be lost in transit: encode it.
    const plain = (c >= 33 && c <= 126 && c !== 61) || ((c === 32 || c === 9) && !last);
    const piece = plain ? line[i]! : `=${HEX[c >> 4]}${HEX[c & 15]}`;
    // Room for a soft break ("=") unless this is the line's last piece.
    if (width + piece.length > (last ? 76 : 75)) {
      out += `=${eol}`;
      width = 0;
    }
    out += piece;
    width += piece.length;
  }
  return out;
}

function base64(text: string, eol: string): string {
  const encoded = Buffer.from(text, 'latin1').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join(eol) + eol;
}

function isUtf8(latin1: string): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(latin1, 'latin1'));
    return true;
  } catch {
    return false;
  }
}
