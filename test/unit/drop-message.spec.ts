import { describe, expect, it } from 'vitest';
import { DropRefused, cutAtDot, dropMessage } from '../../src/intake/maildrop/drop-message.js';
import { MaildropFile } from '../../src/intake/maildrop/maildrop-file.js';

const drop = (over: Partial<MaildropFile>, message: string): MaildropFile => ({ extractRecipients: false, ignoreDots: false, recipients: [], message: Buffer.from(message), ...over });

describe('dropMessage', () => {
  it('with -t takes To, Cc and Bcc (groups, bare local names) besides the arguments, and removes Bcc', () => {
    const m = dropMessage(drop({ extractRecipients: true, recipients: ['extra@x.example'] }, 'To: root, "Ops" <ops@x.example>\nCc: team: a@x.example, b@x.example;\nBcc: secret@x.example\nSubject: s\n\nbody\n'), 'backup');
    expect(m.to).toEqual(['extra@x.example', 'root', 'ops@x.example', 'a@x.example', 'b@x.example', 'secret@x.example']);
    expect(m.from).toBe('backup');
    expect(m.raw.toString()).not.toContain('secret');
    expect(m.raw.toString()).toContain('Subject: s');
    expect(m.raw.toString().endsWith('\r\n\r\nbody\n')).toBe(true); // the rebuilt header block ends in CRLF
  });

  it('splits comma lists given as arguments, drops repeats, and keeps the sender given with -f (<> is the null sender)', () => {
    const m = dropMessage(drop({ recipients: ['a@x.example,b@x.example', 'A@x.example'], sender: '<>', fullName: 'Cron\nDaemon' }, 'Subject: s\n\nb\n'), 'root');
    expect(m).toMatchObject({ from: '', to: ['a@x.example', 'b@x.example'], fullName: 'Cron Daemon', refused: [] });
  });

  it('refuses the recipients that are no address, and the whole file when none is left or the sender is bad', () => {
    expect(dropMessage(drop({ recipients: ['ok@x.example', 'not an address@@'] }, 'x'), 'root')).toMatchObject({ to: ['ok@x.example'], refused: ['not an address@@'] });
    expect(() => dropMessage(drop({ recipients: ['@@'] }, 'x'), 'root')).toThrow(DropRefused);
    expect(() => dropMessage(drop({ extractRecipients: true }, 'Subject: nobody\n\nx'), 'root')).toThrow(/none in the To, Cc or Bcc headers/);
    expect(() => dropMessage(drop({ recipients: ['a@x.example'], sender: 'bad sender@@' }, 'x'), 'root')).toThrow(/not a valid sender/);
  });

  it('refuses an argument that names nobody (a display name alone: john smith) with the others, rather than dropping it silently', () => {
    expect(dropMessage(drop({ recipients: ['good@x.example', 'john smith'] }, 'x'), 'root')).toMatchObject({ to: ['good@x.example'], refused: ['john smith'] });
    expect(() => dropMessage(drop({ recipients: ['not an address'] }, 'x'), 'root')).toThrow(/no valid recipient \(not an address\)/);
  });

  it('takes the address of a -f given as a mailbox, and drops a leading mbox From line (so that -t finds the headers)', () => {
    expect(dropMessage(drop({ recipients: ['a@x.example'], sender: 'Backup Job <backup@x.example>' }, 'x'), 'root').from).toBe('backup@x.example');
    const m = dropMessage(drop({ extractRecipients: true }, 'From root  Thu Dec  4 17:00:00 2026\nSubject: s\nTo: a@x.example\n\nbody\n'), 'root');
    expect(m.to).toEqual(['a@x.example']);
    expect(m.raw.toString()).toBe('Subject: s\nTo: a@x.example\n\nbody\n');
  });

  it('refuses a recipient or a sender that no transport could send (a quoted < or >)', () => {
    expect(dropMessage(drop({ recipients: ['ok@x.example', '"a<b"@x.example'] }, 'x'), 'root')).toMatchObject({ to: ['ok@x.example'], refused: ['"a<b"@x.example'] });
    expect(() => dropMessage(drop({ recipients: ['a@x.example'], sender: '"b>c"@x.example' }, 'x'), 'root')).toThrow(/not a valid sender/);
  });

  it('keeps a message without a final newline and 8-bit bytes as they are', () => {
    const bytes = Buffer.from('Subject: caf\xe9\n\nna\xefve', 'latin1');
    const m = dropMessage({ extractRecipients: false, ignoreDots: true, recipients: ['a@x.example'], message: bytes }, 'root');
    expect(m.raw.equals(bytes)).toBe(true);
  });
});

describe('cutAtDot', () => {
  it('ends the message at a lone dot unless -i', () => {
    expect(cutAtDot(Buffer.from('a\n.\nb\n'), false).toString()).toBe('a\n');
    expect(cutAtDot(Buffer.from('a\r\n.\r\nb\r\n'), false).toString()).toBe('a\r\n');
    expect(cutAtDot(Buffer.from('a\n..\nb\n'), false).toString()).toBe('a\n..\nb\n');
    expect(cutAtDot(Buffer.from('a\n.\nb\n'), true).toString()).toBe('a\n.\nb\n');
  });
});
