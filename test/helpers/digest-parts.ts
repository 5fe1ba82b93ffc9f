/** A MIME part: its header block (text) and its content, the exact bytes between its delimiters. */
export interface MimePart {
  headers: string;
  content: Buffer;
}

/**
 * The top-level parts of a multipart message, split by its boundary without decoding anything
 * (RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter), so a carried message
 * can be compared byte for byte with what was stored.
 */
export function multipartParts(data: Buffer): { headers: string; parts: MimePart[] } {
  const s = data.toString('latin1');
  const headEnd = s.indexOf('\r\n\r\n');
  const headers = s.slice(0, headEnd);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers.replace(/\r\n[ \t]+/g, ' '))?.[1];
  if (!boundary) throw new Error('not a multipart message');
  const delimiter = `\r\n--${boundary}`;
  const starts: number[] = [];
  for (let at = s.indexOf(delimiter, headEnd); at >= 0; at = s.indexOf(delimiter, at + delimiter.length)) starts.push(at);
  const parts: MimePart[] = [];
  for (let i = 0; i + 1 < starts.length; i++) {
    const begin = s.indexOf('\r\n', starts[i]! + delimiter.length) + 2;
    const part = s.slice(begin, starts[i + 1]);
    const split = part.indexOf('\r\n\r\n');
    const partHeaders = part.startsWith('\r\n') ? '' : part.slice(0, split);
    const content = part.startsWith('\r\n') ? part.slice(2) : part.slice(split + 4);
    parts.push({ headers: partHeaders, content: Buffer.from(content, 'latin1') });
  }
  if (!s.startsWith(`--${boundary}--`, starts[starts.length - 1]! + 2)) throw new Error('no closing delimiter');
  return { headers, parts };
}
