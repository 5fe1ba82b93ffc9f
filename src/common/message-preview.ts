/** How much of a stored message the page reads: enough for the headers and a long text. */
export const PREVIEW_BYTES = 256 * 1024;
/** How much text the page shows. */
const TEXT_CHARS = 20_000;

export interface MessagePreview {
  /** The header lines as stored, unfolded, in order. */
  headers: { name: string; value: string }[];
  /** The text/plain part, or the HTML part as text; never markup. */
  text: string;
  /** Whether the text shown is not the whole body (the message is larger than what was read, or the text was cut). */
  cut: boolean;
  attachments: { filename: string; contentType: string; size: number }[];
  /** The addresses of its To header. */
  to: string[];
}

/**
 * What the message page shows of a queued message: its headers and a safe text view of its body
 * (mailparser turns an HTML-only body into text; the page escapes whatever it shows). `head` is
 * the first PREVIEW_BYTES of the stored message, `size` its whole size. mailparser is loaded on
 * first use: an idle Postroom never needs it.
 */
export async function previewMessage(head: Buffer, size: number): Promise<MessagePreview> {
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(head, { skipImageLinks: true, skipTextToHtml: true });
  const headers = parsed.headerLines.map(({ line }) => {
    const unfolded = line.replace(/\r?\n[ \t]+/g, ' ');
    const colon = unfolded.indexOf(':');
    return colon < 0 ? { name: unfolded, value: '' } : { name: unfolded.slice(0, colon), value: unfolded.slice(colon + 1).trim() };
  });
  const text = (parsed.text ?? '').replace(/\r\n/g, '\n');
  return {
    headers,
    text: text.length > TEXT_CHARS ? text.slice(0, TEXT_CHARS) : text,
    cut: size > head.length || text.length > TEXT_CHARS,
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '(no name)', contentType: a.contentType, size: a.size })),
    to: (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) => a.value.flatMap((v) => (v.address ? [v.address] : []))),
  };
}
