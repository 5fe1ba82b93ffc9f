import { describe, expect, it } from 'vitest';
import { StdioMessage, sendmailArgs, smtpOnStdio } from '../../src/cli/sendmail.js';

/** Plays an SMTP client's lines against the -bs session; returns its replies and what it kept. */
async function session(lines: string[], keep: (m: StdioMessage) => { ok: boolean; reason: string } = () => ({ ok: true, reason: '' })) {
  const kept: StdioMessage[] = [];
  let out = '';
  async function* input() {
    yield lines.join('\r\n') + '\r\n';
  }
  await smtpOnStdio(input(), (t) => (out += t), (m) => {
    kept.push(m);
    return keep(m);
  });
  return { replies: out.split('\r\n').filter(Boolean), kept };
}

describe('postroom sendmail', () => {
  describe('sendmailArgs', () => {
    it('is chosen when invoked as sendmail or as "postroom sendmail"', () => {
      expect(sendmailArgs(['node', '/usr/sbin/sendmail', '-t'])).toEqual(['-t']);
      expect(sendmailArgs(['node', '/usr/bin/postroom', 'sendmail', '-oi', 'a@b.example'])).toEqual(['-oi', 'a@b.example']);
      expect(sendmailArgs(['node', '/usr/bin/postroom', 'mailq'])).toBeUndefined();
    });
  });

  describe('smtpOnStdio (sendmail -bs)', () => {
    it('takes a transaction: envelope from MAIL and RCPT, the message dot-unstuffed up to the lone dot', async () => {
      const { replies, kept } = await session(['EHLO client', 'MAIL FROM:<app@nas.example>', 'RCPT TO:<a@x.example>', 'RCPT TO:<root>', 'DATA', 'Subject: s', '', '..leading dot', 'body', '.', 'QUIT']);
      expect(kept).toEqual([{ from: 'app@nas.example', to: ['a@x.example', 'root'], data: Buffer.from('Subject: s\r\n\r\n.leading dot\r\nbody\r\n') }]);
      expect(replies[0]).toMatch(/^220 /);
      expect(replies.filter((r) => /^\d{3} /.test(r)).map((r) => r.slice(0, 3))).toEqual(['220', '250', '250', '250', '250', '354', '250', '221']);
    });

    it('answers 451 with the reason when the message cannot be kept, and refuses commands out of order', async () => {
      const { replies } = await session(['HELO c', 'RCPT TO:<a@x.example>', 'DATA', 'MAIL FROM:<>', 'RCPT TO:<a@x.example>', 'DATA', 'x', '.', 'BOGUS', 'QUIT'], () => ({ ok: false, reason: 'no maildrop' }));
      expect(replies.map((r) => r.slice(0, 3))).toEqual(['220', '250', '503', '503', '250', '250', '354', '451', '502', '221']);
      expect(replies).toContain('451 4.3.0 no maildrop');
    });
  });
});
