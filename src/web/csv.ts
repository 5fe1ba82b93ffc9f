/**
 * One CSV record (RFC 4180): fields with a comma, quote or line break are quoted, quotes doubled;
 * so are fields with a semicolon, which a spreadsheet in a locale that splits on it would
 * otherwise cut into cells of their own (`x;=1+1`). A field that a spreadsheet would take for a
 * formula (=, +, -, @, tab, CR at its start) gets a leading apostrophe: mail-log text comes from
 * outside (subjects, addresses, replies).
 */
export function csvRecord(fields: (string | number | null | undefined)[]): string {
  return (
    fields
      .map((f) => {
        let text = f === null || f === undefined ? '' : String(f);
        if (typeof f === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
        return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
      })
      .join(',') + '\r\n'
  );
}
