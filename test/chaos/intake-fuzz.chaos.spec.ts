import { describe, expect, it } from 'vitest';
import { NormalizeInput, normalizeMessage } from '../../src/intake/message-normalizer.js';
import { splitHeaders } from '../../src/common/rfc5322.js';
import { chaosSeed, prng, report } from './support.js';
import { wholeMessage } from '../../src/common/message-data.js';

const CORPUS = [
  'From: cron@nas.local\r\nTo: ops@example.com\r\nSubject: Backup done\r\n\r\nAll good.\r\n',
  'Subject: bare LF\nFrom: a@b.example\n\nline\nline\n',
  'Received: from x by y; Sun, 22 Nov 2026 03:15:19 +0000\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?= folded\r\n continued\r\n\tand more\r\nMessage-ID: <abc@nas.local>\r\nDate: Sun, 22 Nov 2026 03:15:19 +0000\r\n\r\nbody\r\n',
  'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\nSubject: parts\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n',
  'Subject: only headers\r\nFrom: a@b.example\r\n',
  'no headers at all, just a line\r\n\r\nand more\r\n',
  '',
  'Subject: Grüße ✓ 8-bit\r\nFrom: "Ünïcode" <a@b.example>\r\n\r\nbödy\r\n',
  'X-Empty:\r\nX-Spaces:    \r\nSubject:\r\n\r\n\r\n\r\n',
];

const SPECIAL = [0x00, 0x0d, 0x0a, 0x3a, 0x20, 0x09, 0x2e, 0x3d, 0x3f, 0x80, 0xc3, 0xff, 0xfe];

interface Case {
  kind: string;
  raw: Buffer;
}

function generator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const randomBytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = random() < 0.3 ? pick(SPECIAL) : int(256);
    return b;
  };
  const mutate = (input: Buffer): Buffer => {
    let b = input;
    const steps = 1 + int(4);
    for (let s = 0; s < steps; s++) {
      const at = int(b.length + 1);
      switch (int(10)) {
        case 0: // insert special or random bytes
          b = Buffer.concat([b.subarray(0, at), randomBytes(1 + int(8)), b.subarray(at)]);
          break;
        case 1: // delete a range
          b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(20)))]);
          break;
        case 2: // duplicate a range
          b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(200)), b.subarray(at)]);
          break;
        case 3: // truncate
          b = b.subarray(0, at);
          break;
        case 4: // CRLF -> LF or LF -> CRLF everywhere
          b = Buffer.from(random() < 0.5 ? b.toString('latin1').replace(/\r\n/g, '\n') : b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
          break;
        case 5: // a very long line
          b = Buffer.concat([b.subarray(0, at), Buffer.alloc(1000 + int(20_000), pick([0x41, 0x20, 0x3a, 0x3d])), b.subarray(at)]);
          break;
        case 6: // many headers
          b = Buffer.concat([Buffer.from(`X-H: v\r\n`.repeat(1 + int(2000))), b]);
          break;
        case 8: // a mail loop: many Received headers, some spelled oddly
          b = Buffer.concat([Buffer.from(`${pick(['Received', 'received', 'RECEIVED ', 'Received\t'])}: from a by b; Sun, 22 Nov 2026 03:15:19 +0000\r\n`.repeat(1 + int(80))), b]);
          break;
        case 7: // odd header names and encoded words
          b = Buffer.concat([Buffer.from(pick(['Subject: =?UTF-8?B?####?=\r\n', 'Subject: =?x?Q?=ZZ=?=\r\n', ':no-name\r\n', 'Bad Name: x\r\n', 'Message-ID:\r\n', 'From:\r\n', 'Date: not a date\r\n', `Subject: ${'=?UTF-8?Q?a?= '.repeat(500)}\r\n`, ' leading continuation\r\n', 'From: <>\r\n']), 'latin1'), b]);
          break;
        default: // flip one byte
          if (b.length) {
            b = Buffer.from(b);
            b[int(b.length)] = int(256);
          }
      }
    }
    return b;
  };
  return (): Case => {
    const r = random();
    if (r < 0.25) return { kind: 'random', raw: randomBytes(int(2000)) };
    if (r < 0.85) return { kind: 'mutated', raw: mutate(Buffer.from(pick(CORPUS), 'utf8')) };
    // Structured: random header lines, a separator, a random body.
    const lines: string[] = [];
    for (let i = int(20); i > 0; i--) {
      const name = pick(['Subject', 'From', 'To', 'Message-ID', 'Date', 'Reply-To', 'X-Custom', 'subject', 'FROM', 'Received']);
      lines.push(`${name}:${randomBytes(int(120)).toString('latin1').replace(/[\r\n]/g, ' ')}`);
      if (random() < 0.2) lines.push(`\t${randomBytes(int(40)).toString('latin1').replace(/[\r\n]/g, ' ')}`);
    }
    const sep = pick(['\r\n\r\n', '\n\n', '\r\n', '\n\r\n', '\r\n\n', '']);
    return { kind: 'structured', raw: Buffer.concat([Buffer.from(lines.join(pick(['\r\n', '\n'])) + sep, 'latin1'), randomBytes(int(1000))]) };
  };
}

/**
 * The intake rule (message-hygiene.ts), written out plainly: the status intake must refuse the
 * message with, or undefined. NUL anywhere; a header line over 998 characters; over 50 Received.
 */
function expectedRefusal(raw: Buffer): string | undefined {
  if (raw.includes(0)) return '5.6.0';
  const lines = splitHeaders(raw).head.toString('latin1').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.some((l) => l.length > 998)) return '5.6.0';
  if (lines.filter((l) => /^received[ \t]*:/i.test(l)).length > 50) return '5.4.6';
  return undefined;
}

const input = (raw: Buffer, i: number, random: () => number): NormalizeInput => ({
  raw,
  queueId: `FUZZ${String(i).padStart(13, '0')}`,
  envelopeFrom: random() < 0.2 ? '' : 'cron@nas.local',
  recipients: random() < 0.5 ? ['ops@example.com'] : ['ops@example.com', 'dev@example.com'],
  now: new Date(Date.UTC(2026, 10, 22, 3, 15, 19)),
  hostname: 'nas.example.com',
  fromName: random() < 0.5 ? '' : 'NAS "Ünit"',
  fromAddress: random() < 0.5 ? '' : 'nas@example.com',
  rewriteFrom: random() < 0.3,
  client: { address: random() < 0.5 ? '127.0.0.1' : null, heloName: 'client', protocol: 'ESMTP' },
});

/** A fuzz test of intake parsing: thousands of random and mutated messages from a seeded PRNG. */
describe('intake parsing fuzz (normalizeMessage, splitHeaders)', () => {
  it('never throws, keeps the body bytes, always yields a header block with Received, and refuses exactly NUL, lines over 998, loops', () => {
    const seed = chaosSeed();
    const random = prng(seed);
    const next = generator(random);
    const kinds: Record<string, number> = {};
    const refused: Record<string, number> = {};
    const failures: string[] = [];
    const deadline = Date.now() + 30_000;
    let n = 0;
    for (; n < 20_000 && Date.now() < deadline && failures.length < 5; n++) {
      const c = next();
      kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
      const where = `case ${n} (${c.kind}, seed ${seed}): ${JSON.stringify(c.raw.subarray(0, 120).toString('latin1'))}`;
      try {
        // splitHeaders cuts the message in two at the blank line and loses nothing else.
        const { head, body } = splitHeaders(c.raw);
        const sep = c.raw.subarray(head.length, c.raw.length - body.length);
        expect(c.raw.subarray(0, head.length).equals(head), 'head is the start').toBe(true);
        expect(['', '\r\n', '\n']).toContain(sep.toString('latin1'));

        const i = input(c.raw, n, random);
        const out = normalizeMessage(i);
        // Refused exactly by the rule (NUL, over-long header lines, more than 50 hops); 8-bit bytes pass.
        const status = expectedRefusal(c.raw);
        expect(out.problem?.status, 'refusal').toBe(status);
        if (status) refused[status] = (refused[status] ?? 0) + 1;
        const data = wholeMessage(out.data);
        // The body, byte for byte, at the end.
        expect(data.length).toBeGreaterThanOrEqual(body.length);
        expect(data.subarray(data.length - body.length).equals(body), 'body kept').toBe(true);
        // A header block that starts with our Received (naming the queue id) and ends with a blank line.
        const headerBlock = data.subarray(0, data.length - body.length).toString('latin1');
        expect(headerBlock.startsWith('Received: ')).toBe(true);
        expect(headerBlock).toContain(i.queueId);
        expect(headerBlock).toMatch(/\n\r?\n$/);
        expect(headerBlock).toMatch(/^Message-ID[ \t]*:/im);
        expect(headerBlock).toMatch(/^Date[ \t]*:/im);
        expect(headerBlock).toMatch(/^From[ \t]*:/im);
        expect(out.subject).not.toMatch(/[\r\n]/);
        expect(out.subject.length).toBeLessThanOrEqual(998);
        expect(out.messageId.length).toBeLessThanOrEqual(998);
        expect(out.messageId.length).toBeGreaterThan(0);
      } catch (err) {
        failures.push(`${where}\n  ${String(err).split('\n')[0]}`);
      }
    }
    report('intake-fuzz', { seed, inputs: n, kinds, refused, failures: failures.length });
    expect(failures).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(5_000);
  }, 60_000);
});
