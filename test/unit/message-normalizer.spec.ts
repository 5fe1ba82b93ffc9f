import { describe, expect, it } from 'vitest';
import { NormalizeInput, normalizeMessage } from '../../src/intake/message-normalizer.js';
import { rfc5322Date, splitHeaders } from '../../src/common/rfc5322.js';
import { MessageData, MessageParts, STREAMED_BODY_BYTES, headerSource, slices, wholeMessage } from '../../src/common/message-data.js';

const NOW = new Date(Date.UTC(2026, 10, 22, 3, 15, 19));
const QUEUE_ID = '0BCDFGHJK12345678';

function input(raw: string | Buffer, over: Partial<NormalizeInput> = {}): NormalizeInput {
  return {
    raw: typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw,
    queueId: QUEUE_ID,
    envelopeFrom: 'app@example.org',
    recipients: ['ops@example.net'],
    now: NOW,
    hostname: 'mail.example.com',
    fromName: '',
    fromAddress: '',
    rewriteFrom: false,
    client: { address: '127.0.0.1', heloName: 'app.local', reverseName: 'localhost', protocol: 'ESMTP' },
    ...over,
  };
}

/** The output's header block, split into unfolded [name, value] pairs, and its body bytes. */
function parse(message: MessageData): { headers: [string, string][]; body: Buffer } {
  const data = wholeMessage(message);
  const end = data.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(-1);
  const head = data.subarray(0, end).toString('utf8').replace(/\r\n(?=[ \t])/g, '');
  const headers = head.split('\r\n').map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  return { headers, body: data.subarray(end + 4) };
}

const values = (headers: [string, string][], name: string) => headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v);

describe('splitHeaders', () => {
  it('splits a CRLF message at the first blank line, keeping the last header line ending in the head', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: a\r\nTo: b@example.com\r\n\r\nbody\r\n\r\nmore\r\n'));
    expect(head.toString()).toBe('Subject: a\r\nTo: b@example.com\r\n');
    expect(body.toString()).toBe('body\r\n\r\nmore\r\n');
  });

  it('splits a bare-LF message at the first blank line', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: a\nTo: b@example.com\n\nline 1\nline 2\n'));
    expect(head.toString()).toBe('Subject: a\nTo: b@example.com\n');
    expect(body.toString()).toBe('line 1\nline 2\n');
  });

  it('uses the CRLF blank line when the body after it holds a bare-LF blank line', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: a\r\n\r\nx\n\ny'));
    expect(head.toString()).toBe('Subject: a\r\n');
    expect(body.toString()).toBe('x\n\ny');
  });

  it('uses the bare-LF blank line when it comes before a CRLF blank line in the body', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: a\n\nx\r\n\r\ny'));
    expect(head.toString()).toBe('Subject: a\n');
    expect(body.toString()).toBe('x\r\n\r\ny');
  });

  it('splits at the blank line right after a header block that ends with an empty body', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: a\r\n\r\n'));
    expect(head.toString()).toBe('Subject: a\r\n');
    expect(body).toHaveLength(0);
  });

  it('treats a message of header lines without a blank line as all head', () => {
    const raw = Buffer.from('Subject: a\r\nTo: b@example.com\r\n');
    const { head, body } = splitHeaders(raw);
    expect(head.toString()).toBe('Subject: a\r\nTo: b@example.com\r\n');
    expect(body).toHaveLength(0);
  });

  it('treats a message whose first line is not a header as all body', () => {
    for (const text of ['Hello there,\r\n\r\nthe disk is full.\r\n', '\r\nSubject: late\r\n', ': no name\r\n\r\nx', 'Subject a\r\n\r\nx']) {
      const { head, body } = splitHeaders(Buffer.from(text));
      expect(head).toHaveLength(0);
      expect(body.toString()).toBe(text);
    }
  });

  it('returns an empty head and body for an empty message', () => {
    const { head, body } = splitHeaders(Buffer.alloc(0));
    expect(head).toHaveLength(0);
    expect(body).toHaveLength(0);
  });

  it('returns a one-line header block without line ending as head', () => {
    const { head, body } = splitHeaders(Buffer.from('Subject: only'));
    expect(head.toString()).toBe('Subject: only');
    expect(body).toHaveLength(0);
  });
});

describe('rfc5322Date', () => {
  it('formats a UTC date with day name, unpadded day and +0000 zone', () => {
    expect(rfc5322Date(NOW)).toBe('Sun, 22 Nov 2026 03:15:19 +0000');
    expect(rfc5322Date(new Date(0))).toBe('Thu, 1 Jan 1970 00:00:00 +0000');
    expect(rfc5322Date(new Date('2024-02-29T23:59:59.999Z'))).toBe('Thu, 29 Feb 2024 23:59:59 +0000');
  });
});

describe('normalizeMessage', () => {
  const complete = 'From: App <app@example.org>\r\nTo: ops@example.net\r\nSubject: Disk full\r\nDate: Sat, 21 Nov 2026 10:00:00 +0100\r\nMessage-ID: <abc@app.example.org>\r\n\r\nThe disk is full.\r\n';

  it('puts a Received header with the queue id, client and recipient on top', () => {
    const { headers } = parse(normalizeMessage(input(complete)).data);
    expect(headers[0]).toEqual([
      'Received',
      `from app.local (localhost [127.0.0.1]) by mail.example.com (Postroom) with ESMTP id ${QUEUE_ID} for <ops@example.net>; Sun, 22 Nov 2026 03:15:19 +0000`,
    ]);
    expect(values(headers, 'Received')).toHaveLength(1);
  });

  it('leaves out "for" when there are several recipients, says unknown for a missing HELO and omits a missing reverse name', () => {
    const out = normalizeMessage(input(complete, { recipients: ['a@example.net', 'b@example.net'], client: { address: '192.0.2.9', protocol: 'SMTP' } }));
    expect(parse(out.data).headers[0]).toEqual(['Received', `from unknown ([192.0.2.9]) by mail.example.com (Postroom) with SMTP id ${QUEUE_ID}; Sun, 22 Nov 2026 03:15:19 +0000`]);
  });

  it('omits a reverse name that is only the bracketed address again', () => {
    const out = normalizeMessage(input(complete, { client: { address: '192.0.2.9', heloName: 'app', reverseName: '[192.0.2.9]', protocol: 'ESMTPS' } }));
    expect(parse(out.data).headers[0]).toEqual(['Received', `from app ([192.0.2.9]) by mail.example.com (Postroom) with ESMTPS id ${QUEUE_ID} for <ops@example.net>; Sun, 22 Nov 2026 03:15:19 +0000`]);
  });

  it('says "from localhost (api)" when the message came from the API rather than a client address', () => {
    const out = normalizeMessage(input(complete, { client: { address: null, protocol: 'HTTP' } }));
    expect(parse(out.data).headers[0]).toEqual(['Received', `from localhost (api) by mail.example.com (Postroom) with HTTP id ${QUEUE_ID} for <ops@example.net>; Sun, 22 Nov 2026 03:15:19 +0000`]);
  });

  it('keeps a complete message as it was below the Received header and adds nothing', () => {
    const out = normalizeMessage(input(complete));
    const { headers, body } = parse(out.data);
    expect(headers.slice(1)).toEqual([
      ['From', 'App <app@example.org>'],
      ['To', 'ops@example.net'],
      ['Subject', 'Disk full'],
      ['Date', 'Sat, 21 Nov 2026 10:00:00 +0100'],
      ['Message-ID', '<abc@app.example.org>'],
    ]);
    expect(body.toString()).toBe('The disk is full.\r\n');
    expect(out).toMatchObject({ sender: 'app@example.org', messageId: '<abc@app.example.org>', subject: 'Disk full' });
  });

  it('adds a Message-ID at our hostname when the message has none and returns it', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody'));
    const ids = values(parse(out.data).headers, 'Message-ID');
    expect(ids).toEqual([out.messageId]);
    expect(out.messageId).toMatch(/^<[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@mail\.example\.com>$/);
  });

  it('gives each message without a Message-ID a different one', () => {
    const a = normalizeMessage(input('Subject: x\r\n\r\nbody'));
    const b = normalizeMessage(input('Subject: x\r\n\r\nbody'));
    expect(a.messageId).not.toBe(b.messageId);
  });

  it('finds an existing Message-ID whatever its case and does not add another', () => {
    const out = normalizeMessage(input('message-id:   <lower@example.org>  \r\nSubject: x\r\n\r\nbody'));
    expect(out.messageId).toBe('<lower@example.org>');
    expect(values(parse(out.data).headers, 'message-id')).toEqual(['<lower@example.org>']);
  });

  it('adds a Date of now when the message has none and keeps an existing one', () => {
    const added = normalizeMessage(input('Subject: x\r\n\r\nbody'));
    expect(values(parse(added.data).headers, 'Date')).toEqual(['Sun, 22 Nov 2026 03:15:19 +0000']);
    const kept = normalizeMessage(input('Date: Mon, 2 Mar 2026 08:00:00 -0500\r\n\r\nbody'));
    expect(values(parse(kept.data).headers, 'Date')).toEqual(['Mon, 2 Mar 2026 08:00:00 -0500']);
  });

  it('does not count a header whose name is not well formed ("Date\\v:"), and adds Message-ID, Date and From beside it', () => {
    // Found by the intake fuzz test: mailsplit trims any whitespace off a name, a vertical tab too.
    const out = normalizeMessage(input('Subject: x\r\nDate\v: Mon, 2 Mar 2026 08:00:00 -0500\r\nMessage-ID\v: <a@b>\r\nFrom\v: a@b\r\n\r\nbody'));
    const { headers, body } = parse(out.data);
    expect(values(headers, 'Date')).toEqual(['Sun, 22 Nov 2026 03:15:19 +0000']);
    expect(values(headers, 'Message-ID')).toEqual([out.messageId]);
    expect(out.messageId).toMatch(/^<[0-9a-f-]{36}@mail\.example\.com>$/);
    expect(values(headers, 'From')).toEqual(['app@example.org']);
    // The odd lines stay as they came: no field, so (as Postfix reads it) the body starts at the first of them.
    expect(headers.map(([k]) => k)).toEqual(['Received', 'Subject', 'Message-ID', 'Date', 'From']);
    expect(body.toString()).toBe('Date\v: Mon, 2 Mar 2026 08:00:00 -0500\r\nMessage-ID\v: <a@b>\r\nFrom\v: a@b\r\n\r\nbody');
  });

  it('starts the body at the first line that is no field when no blank line ends the headers, as Postfix does (a blank line is put between)', () => {
    const out = normalizeMessage(input('Subject: df\nFilesystem Size Used\n/dev/sda1 10G 2G\n'));
    const { headers, body } = parse(out.data);
    expect(values(headers, 'Subject')).toEqual(['df']);
    expect(body.toString()).toBe('Filesystem Size Used\n/dev/sda1 10G 2G\n');
    // A folded field and a field with a blank before its colon are still headers.
    const folded = splitHeaders(Buffer.from('Subject: a\r\n long\r\nX-Old : y\r\nline of text\r\n'));
    expect(folded.head.toString()).toBe('Subject: a\r\n long\r\nX-Old : y\r\n');
    expect(folded.body.toString()).toBe('line of text\r\n');
    // Still arriving: a last line not yet ended decides nothing.
    expect(splitHeaders(Buffer.from('Subject: a\r\nlin'), false).head.toString()).toBe('Subject: a\r\nlin');
    expect(splitHeaders(Buffer.from('Subj'), false).head.toString()).toBe('Subj');
  });

  it('adds the configured From when the message has none', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { fromName: 'Alerts Bot', fromAddress: 'alerts@example.com' }));
    expect(values(parse(out.data).headers, 'From')).toEqual(['Alerts Bot <alerts@example.com>']);
    expect(values(parse(out.data).headers, 'Reply-To')).toEqual([]);
    expect(out.sender).toBe('app@example.org');
  });

  it('adds the envelope sender as From when the message has none and no From is configured', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody'));
    expect(values(parse(out.data).headers, 'From')).toEqual(['app@example.org']);
  });

  it('adds MAILER-DAEMON at our hostname as From for a null-sender message without From', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { envelopeFrom: '' }));
    expect(values(parse(out.data).headers, 'From')).toEqual(['MAILER-DAEMON@mail.example.com']);
    expect(out.sender).toBe('');
  });

  it('keeps an existing From and the envelope sender when rewriteFrom is off, even with a configured From', () => {
    const out = normalizeMessage(input(complete, { fromName: 'Alerts Bot', fromAddress: 'alerts@example.com' }));
    const { headers } = parse(out.data);
    expect(values(headers, 'From')).toEqual(['App <app@example.org>']);
    expect(values(headers, 'Reply-To')).toEqual([]);
    expect(out.sender).toBe('app@example.org');
  });

  it('moves the original From to Reply-To and rewrites From and the envelope sender when rewriteFrom is on', () => {
    const out = normalizeMessage(input(complete, { fromName: 'Alerts Bot', fromAddress: 'alerts@example.com', rewriteFrom: true }));
    const { headers } = parse(out.data);
    expect(values(headers, 'From')).toEqual(['Alerts Bot <alerts@example.com>']);
    expect(values(headers, 'Reply-To')).toEqual(['App <app@example.org>']);
    expect(out.sender).toBe('alerts@example.com');
  });

  it('keeps an existing Reply-To when rewriting From', () => {
    const raw = 'From: App <app@example.org>\r\nReply-To: Team <team@example.org>\r\n\r\nbody';
    const out = normalizeMessage(input(raw, { fromAddress: 'alerts@example.com', rewriteFrom: true }));
    const { headers } = parse(out.data);
    expect(values(headers, 'From')).toEqual(['alerts@example.com']);
    expect(values(headers, 'Reply-To')).toEqual(['Team <team@example.org>']);
  });

  it('keeps the null envelope sender of a bounce when rewriting From', () => {
    const out = normalizeMessage(input(complete, { envelopeFrom: '', fromAddress: 'alerts@example.com', rewriteFrom: true }));
    expect(out.sender).toBe('');
    expect(values(parse(out.data).headers, 'From')).toEqual(['alerts@example.com']);
  });

  it('rewrites the envelope sender but adds no Reply-To when the message had no From', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { fromAddress: 'alerts@example.com', rewriteFrom: true }));
    const { headers } = parse(out.data);
    expect(values(headers, 'From')).toEqual(['alerts@example.com']);
    expect(values(headers, 'Reply-To')).toEqual([]);
    expect(out.sender).toBe('alerts@example.com');
  });

  it('changes nothing about the sender when rewriteFrom is on but no From address is configured', () => {
    const out = normalizeMessage(input(complete, { fromName: 'Alerts Bot', rewriteFrom: true }));
    expect(values(parse(out.data).headers, 'From')).toEqual(['App <app@example.org>']);
    expect(values(parse(out.data).headers, 'Reply-To')).toEqual([]);
    expect(out.sender).toBe('app@example.org');
  });

  it("rewrites a local From (cron's `root (Cron Daemon)`, x@localhost) to the From address, keeping the display name", () => {
    const isLocal = (a: string) => !a.includes('@') || a.endsWith('@localhost');
    const cron = normalizeMessage(input('From: root (Cron Daemon)\r\nSubject: x\r\n\r\nbody', { fromName: 'NAS', fromAddress: 'nas@example.com', isLocal }));
    expect(values(parse(cron.data).headers, 'From')).toEqual(['Cron Daemon <nas@example.com>']);
    const mdadm = normalizeMessage(input('From: root@localhost\r\nSubject: x\r\n\r\nbody', { fromName: 'NAS', fromAddress: 'nas@example.com', isLocal }));
    expect(values(parse(mdadm.data).headers, 'From')).toEqual(['NAS <nas@example.com>']);
    const outside = normalizeMessage(input('From: App <app@example.org>\r\nSubject: x\r\n\r\nbody', { fromAddress: 'nas@example.com', isLocal }));
    expect(values(parse(outside.data).headers, 'From')).toEqual(['App <app@example.org>']);
    const unset = normalizeMessage(input('From: root\r\nSubject: x\r\n\r\nbody', { isLocal }));
    expect(values(parse(unset.data).headers, 'From')).toEqual(['root']);
  });

  it('adds a From with the full name of sendmail -F when the message has none', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { envelopeFrom: 'root@nas.example.com', fullName: 'Cron Daemon' }));
    expect(values(parse(out.data).headers, 'From')).toEqual(['Cron Daemon <root@nas.example.com>']);
    const configured = normalizeMessage(input('Subject: x\r\n\r\nbody', { fullName: 'Cron Daemon', fromName: 'NAS', fromAddress: 'nas@example.com' }));
    expect(values(parse(configured.data).headers, 'From')).toEqual(['Cron Daemon <nas@example.com>']);
  });

  it('names the user of a local submission in Received, as Postfix does', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { client: { address: null, protocol: 'local', uid: 1000 } }));
    expect(values(parse(out.data).headers, 'Received')[0]).toBe(`by mail.example.com (Postroom, from userid 1000) id ${QUEUE_ID} for <ops@example.net>; Sun, 22 Nov 2026 03:15:19 +0000`);
  });

  it('encodes a non-ASCII configured From name as an RFC 2047 word', () => {
    const out = normalizeMessage(input('Subject: x\r\n\r\nbody', { fromName: 'Überwachung', fromAddress: 'alerts@example.com' }));
    expect(values(parse(out.data).headers, 'From')).toEqual([`=?UTF-8?B?${Buffer.from('Überwachung').toString('base64')}?= <alerts@example.com>`]);
  });

  it('keeps the body byte for byte, including 8-bit bytes, NUL and lone CR', () => {
    const body = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9, 0x0d, 0x0a, 0x00, 0x80, 0xff, 0xfe, 0x0d]), Buffer.from('\r\n\r\n.\r\nend')]);
    const raw = Buffer.concat([Buffer.from('Subject: bytes\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n'), body]);
    const out = normalizeMessage(input(raw));
    expect(parse(out.data).body.equals(body)).toBe(true);
    const data = wholeMessage(out.data);
    expect(data.subarray(data.length - body.length).equals(body)).toBe(true);
  });

  it('rebuilds a bare-LF header block with CRLF and keeps the bare-LF body as it was', () => {
    const out = normalizeMessage(input('Subject: lf\nMessage-ID: <lf@example.org>\n\nline 1\nline 2\n'));
    const { headers, body } = parse(out.data);
    const joined = wholeMessage(out.data);
    expect(joined.subarray(0, joined.indexOf('\r\n\r\n')).toString()).not.toMatch(/[^\r]\n/);
    expect(headers.slice(1)).toEqual([
      ['Subject', 'lf'],
      ['Message-ID', '<lf@example.org>'],
      ['Date', 'Sun, 22 Nov 2026 03:15:19 +0000'],
      ['From', 'app@example.org'],
    ]);
    expect(body.toString()).toBe('line 1\nline 2\n');
    expect(out.messageId).toBe('<lf@example.org>');
  });

  it('gives a message with no headers at all a full header block and keeps all of it as body', () => {
    const raw = 'The disk is full.\r\n\r\nRegards\r\n';
    const out = normalizeMessage(input(raw));
    const { headers, body } = parse(out.data);
    expect(headers.map(([k]) => k)).toEqual(['Received', 'Message-ID', 'Date', 'From']);
    expect(values(headers, 'From')).toEqual(['app@example.org']);
    expect(body.toString()).toBe(raw);
    expect(out.subject).toBe('');
  });

  it('handles an empty message by giving it headers and an empty body', () => {
    const out = normalizeMessage(input(Buffer.alloc(0)));
    const { headers, body } = parse(out.data);
    expect(headers.map(([k]) => k)).toEqual(['Received', 'Message-ID', 'Date', 'From']);
    expect(body).toHaveLength(0);
  });

  it('decodes an RFC 2047 Subject for the returned subject and leaves the header encoded', () => {
    const out = normalizeMessage(input('Subject: =?UTF-8?B?SMOpbGxv?= =?ISO-8859-1?Q?W=F6rld?=\r\n\r\nbody'));
    expect(out.subject).toBe('HélloWörld');
    expect(values(parse(out.data).headers, 'Subject')).toEqual(['=?UTF-8?B?SMOpbGxv?= =?ISO-8859-1?Q?W=F6rld?=']);
  });

  it('unfolds a folded Subject and collapses its whitespace', () => {
    const out = normalizeMessage(input('Subject: a long\r\n\t subject   line\r\n\r\nbody'));
    expect(out.subject).toBe('a long subject line');
  });

  it('reads a raw UTF-8 Subject (SMTPUTF8) as UTF-8', () => {
    const out = normalizeMessage(input('Subject: Grüße aus Köln\r\n\r\nbody'));
    expect(out.subject).toBe('Grüße aus Köln');
    expect(parse(out.data).headers).toContainEqual(['Subject', 'Grüße aus Köln']);
  });

  it('cuts the returned subject and Message-ID to 998 characters', () => {
    const long = 'x'.repeat(1200);
    const out = normalizeMessage(input(`Subject: ${long}\r\nMessage-ID: <${long}@example.org>\r\n\r\nbody`));
    expect(out.subject).toBe('x'.repeat(998));
    expect(out.messageId).toBe(`<${long}@example.org>`.slice(0, 998));
  });
});

describe('normalizeMessage on the chunks of a DATA stream', () => {
  const messages = [
    'Subject: a\r\nFrom: x@example.org\r\nMessage-ID: <1@x>\r\nDate: Sun, 22 Nov 2026 03:15:19 +0000\r\n\r\nbody line\r\n\r\nmore\r\n',
    'Subject: lf\nFrom: x@example.org\n\nline 1\n\nline 2\n',
    'no header here\r\njust text\r\n',
    'Subject: only headers\r\nFrom: x@example.org\r\n',
  ];

  // A Message-ID we add is random: compare the rest.
  const masked = (data: Buffer) => data.toString('latin1').replace(/^Message-ID: <[^>]+>/m, 'Message-ID: <added>');

  it('gives the same message as the joined buffer wherever the chunks are cut (in the first line, in the blank line)', () => {
    for (const text of messages) {
      const whole = Buffer.from(text);
      const expected = masked(wholeMessage(normalizeMessage(input(whole)).data));
      for (let cut = 1; cut < whole.length; cut++) {
        for (const size of [1, 3, cut]) {
          const chunks: Buffer[] = [whole.subarray(0, cut)];
          for (let at = cut; at < whole.length; at += size) chunks.push(whole.subarray(at, at + size));
          expect(masked(wholeMessage(normalizeMessage(input(whole, { raw: chunks })).data)), `${JSON.stringify(text)} cut at ${cut}, then ${size}`).toBe(expected);
        }
      }
    }
  });

  it('keeps a big message in its parts: the new header block, then the DATA chunks themselves (no copy)', () => {
    const body = [Buffer.alloc(STREAMED_BODY_BYTES, 0x62), Buffer.from('\r\nend\r\n')];
    const chunks = [Buffer.from('Subject: big\r\n\r\n'), ...body];
    const out = normalizeMessage(input(Buffer.alloc(0), { raw: chunks })).data;
    expect(out).toBeInstanceOf(MessageParts);
    const parts = (out as MessageParts).parts;
    expect(parts.at(-2)).toBe(body[0]);
    expect(parts.at(-1)).toBe(body[1]);
    expect(parse(out).headers.find(([k]) => k === 'Subject')).toEqual(['Subject', 'big']);
    expect(parse(out).body.length).toBe(STREAMED_BODY_BYTES + 7);
    expect(headerSource(out)).toBe(parts[0]);
    expect(Buffer.concat([...slices(out, 1000)]).equals(wholeMessage(out))).toBe(true);
  });

  it('copies the body once and does not join the chunks first', () => {
    const chunks = [Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(100_000, 0x61), Buffer.from('\r\n')];
    const out = wholeMessage(normalizeMessage(input(Buffer.alloc(0), { raw: chunks })).data);
    expect(out.length).toBe(parse(out).body.length + out.indexOf('\r\n\r\n') + 4);
    expect(parse(out).body.equals(Buffer.concat(chunks.slice(1)))).toBe(true);
  });
});
