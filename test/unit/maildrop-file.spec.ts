import { describe, expect, it } from 'vitest';
import { MaildropFormatError, parseMaildropFile } from '../../src/intake/maildrop/maildrop-file.js';

const file = (text: string) => Buffer.from(text, 'latin1');

describe('parseMaildropFile', () => {
  it('reads the envelope lines and keeps the message byte for byte', () => {
    const f = parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags t i\nsender root\nfullname Cron Daemon\nrcpt a@x.example,b@x.example\nrcpt root\n\nSubject: \xe9t\xe9\r\n\r\nbody'));
    expect(f).toMatchObject({ extractRecipients: true, ignoreDots: true, sender: 'root', fullName: 'Cron Daemon', recipients: ['a@x.example,b@x.example', 'root'] });
    expect(f.message.equals(file('Subject: \xe9t\xe9\r\n\r\nbody'))).toBe(true);
  });

  it('tells an absent -f from an empty one (the null sender)', () => {
    expect(parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags\nrcpt a@x.example\n\nx')).sender).toBeUndefined();
    expect(parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags\nsender \nrcpt a@x.example\n\nx')).sender).toBe('');
  });

  it('refuses what the drop-in does not write', () => {
    expect(() => parseMaildropFile(file('From: x\n\nbody'))).toThrow(MaildropFormatError);
    expect(() => parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags x\n\nbody'))).toThrow(/unknown flag "x"/);
    expect(() => parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags\nbcc a@x\n\nbody'))).toThrow(/line 3: unknown envelope line "bcc"/);
    expect(() => parseMaildropFile(file('POSTROOM-MAILDROP 1\nflags\nrcpt a@x.example\n'))).toThrow(/does not end/);
  });
});
