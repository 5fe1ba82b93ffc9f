/**
 * One CSV record (RFC 4180): fields with a comma, quote or line break are quoted, quotes doubled.
 * A field that a spreadsheet would take for a formula (=, +, -, @, tab, CR at its start) gets a
 * leading apostrophe: mail-log text comes from outside (subjects, addresses, replies).
 */
export function csvRecord(fields: (string | number | null | undefined)[]): string {
  return (
    fields
      .map((f) => {
        let text = f === null || f === undefined ? '' : String(f);
        if (typeof f === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
        return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      })
      .join(',') + '\r\n'
  );
}
