import { describe, expect, it } from 'vitest';
import { parseableAddressCommand } from '../../src/intake/smtp-local-names.js';

const parsed = (command: string) => parseableAddressCommand(Buffer.from(command)).toString();

describe('parseableAddressCommand', () => {
  it('qualifies a bare local name with localhost (intake then rewrites it), parameters kept', () => {
    expect(parsed('RCPT TO:<root>')).toBe('RCPT TO:<root@localhost>');
    expect(parsed('MAIL FROM:<root> SIZE=10')).toBe('MAIL FROM:<root@localhost> SIZE=10');
    expect(parsed('rcpt to: <Jane.Doe>')).toBe('rcpt to: <Jane.Doe@localhost>');
  });

  it('drops a trailing dot from the domain', () => {
    expect(parsed('RCPT TO:<root@nas.>')).toBe('RCPT TO:<root@nas>');
    expect(parsed('RCPT TO:<ops@example.com.>')).toBe('RCPT TO:<ops@example.com>');
  });

  it('leaves everything else as it was: the null sender, postmaster, full addresses, local parts smtp-server refuses', () => {
    for (const c of ['MAIL FROM:<>', 'RCPT TO:<postmaster>', 'RCPT TO:<a@example.com>', 'RCPT TO:<a b>', 'RCPT TO:<.x>', 'RCPT TO:<x..y>', 'RCPT TO:root', 'NOOP']) expect(parsed(c), c).toBe(c);
  });
});
