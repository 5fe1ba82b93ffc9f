import { describe, expect, it } from 'vitest';
import { UsageError, cutAtDot, exitCodeOf, parseSendmailArgs, prepareMessage, sendmailArgs } from '../../src/cli/sendmail.js';

describe('sendmail command line', () => {
  it("parses what cron, smartd, mdadm and mailx pass; ignores the options that do not matter", () => {
    expect(parseSendmailArgs(['-FCronDaemon', '-i', '-B8BITMIME', '-oem', '-oi', '-t', '-f', 'root'])).toEqual({ extractRecipients: true, ignoreDots: true, verbose: false, sender: 'root', fullName: 'CronDaemon', recipients: [] });
    expect(parseSendmailArgs(['-oi', '-odi', '-bm', '-N', 'never', '-froot@x.example', '-F', 'Full Name', 'a@x.example', '--', '-odd@x.example'])).toMatchObject({
      ignoreDots: true,
      sender: 'root@x.example',
      fullName: 'Full Name',
      recipients: ['a@x.example', '-odd@x.example'],
    });
    expect(parseSendmailArgs(['-f', '<>', 'a@x.example']).sender).toBe('<>');
    expect(() => parseSendmailArgs(['-bp'])).toThrow(UsageError);
    expect(() => parseSendmailArgs(['-Q'])).toThrow(UsageError);
    expect(() => parseSendmailArgs(['-f'])).toThrow(/needs a value/);
  });

  it('is chosen when invoked as sendmail or as "postroom sendmail"', () => {
    expect(sendmailArgs(['node', '/usr/sbin/sendmail', '-t'])).toEqual(['-t']);
    expect(sendmailArgs(['node', '/usr/bin/postroom', 'sendmail', '-oi', 'a@b.example'])).toEqual(['-oi', 'a@b.example']);
    expect(sendmailArgs(['node', '/usr/bin/postroom', 'mailq'])).toBeUndefined();
  });

  it('ends the message at a lone dot unless -i', () => {
    expect(cutAtDot(Buffer.from('a\n.\nb\n'), false).toString()).toBe('a\n');
    expect(cutAtDot(Buffer.from('a\r\n.\r\nb\r\n'), false).toString()).toBe('a\r\n');
    expect(cutAtDot(Buffer.from('a\n..\nb\n'), false).toString()).toBe('a\n..\nb\n');
    expect(cutAtDot(Buffer.from('a\n.\nb\n'), true).toString()).toBe('a\n.\nb\n');
  });

  it('with -t takes To, Cc and Bcc (groups, local names), removes Bcc, qualifies local names and adds From for -F', () => {
    const args = parseSendmailArgs(['-t', '-F', 'Cron Daemon', '-f', 'root', 'extra@x.example']);
    const m = prepareMessage(args, Buffer.from('To: root, "Ops" <ops@x.example>\nCc: team: a@x.example, b@x.example;\nBcc: secret@x.example\nSubject: s\n'), 'nas.example');
    expect(m.from).toBe('root@nas.example');
    expect(m.to).toEqual(['extra@x.example', 'root@nas.example', 'ops@x.example', 'a@x.example', 'b@x.example', 'secret@x.example']);
    const text = m.raw.toString();
    expect(text).not.toContain('secret');
    expect(text).toContain('From: Cron Daemon <root@nas.example>');
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    expect(prepareMessage(parseSendmailArgs(['-f', '<>', 'a@x.example']), Buffer.from('Subject: s\n\nb\n')).from).toBe('');
    expect(() => prepareMessage(parseSendmailArgs(['-t']), Buffer.from('Subject: s\n'))).toThrow(UsageError);
    expect(() => prepareMessage(parseSendmailArgs(['not an address@@']), Buffer.from('Subject: s\n'))).toThrow(UsageError);
  });

  it("maps SMTP failures to sendmail's exit codes", () => {
    expect(exitCodeOf(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }))).toBe(75);
    expect(exitCodeOf(Object.assign(new Error('451'), { code: 'EMESSAGE', responseCode: 451, command: 'DATA' }))).toBe(75);
    expect(exitCodeOf(Object.assign(new Error('552'), { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }))).toBe(65);
    expect(exitCodeOf(Object.assign(new Error('553'), { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM' }))).toBe(65);
    expect(exitCodeOf(Object.assign(new Error('all rejected'), { code: 'EENVELOPE', rejectedErrors: [{ responseCode: 550, message: 'x' }] }))).toBe(67);
    expect(exitCodeOf(Object.assign(new Error('all rejected'), { code: 'EENVELOPE', rejectedErrors: [{ responseCode: 452, message: 'x' }] }))).toBe(75);
    expect(exitCodeOf(Object.assign(new Error('554'), { code: 'EPROTOCOL', responseCode: 554, command: 'CONN' }))).toBe(69);
  });
});
