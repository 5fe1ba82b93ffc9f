import { describe, expect, it } from 'vitest';
import { csvRecord } from '../../src/web/csv.js';

describe('csvRecord', () => {
  it('quotes fields with commas, quotes and line breaks, and leaves the others as they are', () => {
    expect(csvRecord(['a', 1, null, undefined, 'b,c', 'say "hi"', 'two\nlines'])).toBe('a,1,,,"b,c","say ""hi""","two\nlines"\r\n');
  });

  it('defuses what a spreadsheet would run as a formula', () => {
    expect(csvRecord(['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', 'ok=1'])).toBe(`"'=HYPERLINK(""x"")",'+1,'-2,'@SUM(A1),ok=1\r\n`);
  });

  it('quotes a field with a semicolon, so that a spreadsheet splitting on semicolons keeps it one cell (no formula after one)', () => {
    expect(csvRecord(['x;=1+1;@SUM(A1)', 'plain'])).toBe('"x;=1+1;@SUM(A1)",plain\r\n');
  });
});
