import { describe, expect, it } from 'vitest';
import { MessageParts, hasEightBit, hasLongLine } from '../../src/common/message-data.js';
import { forConnection } from '../../src/delivery/smtp-session.js';
import { quotedPrintable, toSevenBit } from '../../src/delivery/seven-bit.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
const isSevenBit = (b: Buffer) => b.every((x) => x < 0x80);
const decodeQp = (s: string) => Buffer.from(s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

describe('8-bit to 7-bit downgrade (relay without 8BITMIME)', () => {
  it('finds 8-bit bytes in a buffer and in parts', () => {
    expect(hasEightBit(Buffer.from('plain'))).toBe(false);
    expect(hasEightBit(Buffer.from('déjà'))).toBe(true);
    expect(hasEightBit(new MessageParts([Buffer.from('a'), Buffer.from('é')]))).toBe(true);
  });

  it('leaves a 7-bit message byte for byte', () => {
    const raw = crlf(['Subject: x', 'Content-Transfer-Encoding: 8bit', '', 'plain', '']);
    expect(toSevenBit(raw)).toBe(raw);
  });

  it('re-encodes an 8bit text body as quoted-printable and says so', () => {
    const raw = crlf(['Subject: disk', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'Disque déjà plein', 'ligne 2 ', '']);
    const out = toSevenBit(raw);
    expect(isSevenBit(out)).toBe(true);
    const text = out.toString('latin1');
    expect(text).toBe(['Subject: disk', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'Disque d=C3=A9j=C3=A0 plein', 'ligne 2=20', ''].join('\r\n'));
    expect(text.match(/Content-Transfer-Encoding/g)).toHaveLength(1);
  });

  it('a folded Content-Transfer-Encoding field is replaced whole', () => {
    const raw = crlf(['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding:', ' 8bit', 'X-After: kept', '', 'é', '']);
    const text = toSevenBit(raw).toString('latin1');
    expect(text).toBe(['Content-Type: text/plain; charset=utf-8', 'X-After: kept', 'Content-Transfer-Encoding: quoted-printable', '', '=C3=A9', ''].join('\r\n'));
  });

  it('a multipart: each 8-bit part converted, boundaries, preamble, 7-bit parts and base64 parts kept', () => {
    const attachment = Buffer.from([0xff, 0x00, 0x80]).toString('base64');
    const raw = crlf([
      'Subject: report',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="=-b1"',
      '',
      'This is a multi-part message.',
      '--=-b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Température: 45 °C',
      '--=-b1',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'ascii part',
      '--=-b1',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      '--=-b1--',
      'epilogue',
      '',
    ]);
    const out = toSevenBit(raw);
    expect(isSevenBit(out)).toBe(true);
    const text = out.toString('latin1');
    const parts = text.split('\r\n--=-b1');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toContain('This is a multi-part message.');
    expect(parts[1]).toContain('Content-Transfer-Encoding: quoted-printable\r\n\r\nTemp=C3=A9rature: 45 =C2=B0C');
    expect(decodeQp(parts[1]!.split('\r\n\r\n')[1]!)).toBe('Température: 45 °C');
    expect(parts[2]).toBe('\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nascii part');
    expect(parts[3]).toContain(attachment);
    expect(parts[4]).toBe('--\r\nepilogue\r\n');
  });

  it('a nested multipart and an 8-bit non-text part (base64)', () => {
    const raw = crlf([
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      '<p>été</p>',
      '--inner--',
      '--outer',
      'Content-Type: application/x-thing',
      'Content-Transfer-Encoding: 8bit',
      '',
      'ÿ',
      '--outer--',
      '',
    ]);
    const text = toSevenBit(raw).toString('latin1');
    expect(isSevenBit(Buffer.from(text, 'latin1'))).toBe(true);
    expect(text).toContain('Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=C3=A9t=C3=A9</p>\r\n--inner--');
    expect(text).toContain(`Content-Transfer-Encoding: base64\r\n\r\n${Buffer.from('ÿ').toString('base64')}\r\n\r\n--outer--`);
  });

  it('a message with no MIME header at all becomes text/plain (utf-8 when it is UTF-8)', () => {
    const text = toSevenBit(crlf(['Subject: cron', '', 'Sauvegarde terminée', ''])).toString('latin1');
    expect(text).toBe(['Subject: cron', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'Sauvegarde termin=C3=A9e', ''].join('\r\n'));
  });

  it('quoted-printable lines stay within 76 characters, with soft breaks that decode back', () => {
    const line = 'é'.repeat(60) + ' end';
    const qp = quotedPrintable(Buffer.from(line, 'utf8').toString('latin1'));
    for (const l of qp.split('\r\n')) expect(l.length).toBeLessThanOrEqual(76);
    expect(decodeQp(qp)).toBe(line);
    expect(quotedPrintable('a=b\tc\t')).toBe('a=3Db\tc=09');
  });
});

describe('lines over 998 octets (RFC 5321 §4.5.3.1.6), to any relay', () => {
  const long = 'x'.repeat(2_999);
  const maxLine = (b: Buffer) => Math.max(...b.toString('latin1').split('\r\n').map((l) => l.length));

  it('finds a line over 998 octets in a buffer and across parts, its CR not counted', () => {
    expect(hasLongLine(Buffer.from(`a\r\n${'y'.repeat(998)}\r\nb`))).toBe(false);
    expect(hasLongLine(Buffer.from(`a\r\n${'y'.repeat(999)}\r\nb`))).toBe(true);
    expect(hasLongLine(new MessageParts([Buffer.from(`a\n${'y'.repeat(600)}`), Buffer.from(`${'y'.repeat(600)}\nb`)]))).toBe(true);
    expect(hasLongLine(new MessageParts([Buffer.from(`a\n${'y'.repeat(600)}\n`), Buffer.from(`${'y'.repeat(600)}\nb`)]))).toBe(false);
  });

  it('re-encodes a body with a long line as quoted-printable even for a relay with 8BITMIME, and keeps its text whole', () => {
    const raw = crlf(['Subject: report', 'Content-Type: text/html; charset=utf-8', '', `<p>${long}</p>`, 'déjà', '']);
    const out = toSevenBit(raw, true);
    expect(maxLine(out)).toBeLessThanOrEqual(76);
    expect(out.toString('latin1')).toContain('Content-Transfer-Encoding: quoted-printable');
    expect(decodeQp(out.toString('latin1').split('\r\n\r\n')[1]!)).toBe(`<p>${long}</p>\r\ndéjà\r\n`);
  });

  it('leaves an 8-bit body with short lines alone for a relay with 8BITMIME; forConnection sends a long line to no one', () => {
    const eight = crlf(['Subject: s', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'Température: 45 °C', '']);
    expect(toSevenBit(eight, true)).toBe(eight);
    expect(forConnection(true, eight)).toBe(eight);
    const longAscii = crlf(['Subject: s', '', long, '']);
    for (const eightBitMime of [true, false]) expect(maxLine(forConnection(eightBitMime, longAscii) as Buffer)).toBeLessThanOrEqual(76);
  });
});
