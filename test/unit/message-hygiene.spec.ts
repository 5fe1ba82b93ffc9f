import { describe, expect, it } from 'vitest';
import { MAX_HOPS, messageProblem as problemOfParts } from '../../src/intake/message-hygiene.js';
import { splitChunks } from '../../src/intake/message-normalizer.js';

/** The problem of a whole message (one buffer, or DATA chunks), cut the way normalizeMessage cuts it. */
function messageProblem(raw: Buffer | Buffer[]) {
  const { head, body } = splitChunks(Array.isArray(raw) ? raw : [raw]);
  return problemOfParts(head, body);
}

const msg = (text: string) => Buffer.from(text, 'latin1');
const received = (n: number) => Array.from({ length: n }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Sun, 22 Nov 2026 03:15:19 +0000\r\n`).join('');

describe('messageProblem: what intake refuses in a message (RFC 5322 lines, NUL, mail loops)', () => {
  it('takes a well-formed message, 8-bit bytes and long body lines included', () => {
    expect(messageProblem(msg('From: a@b.example\r\nSubject: caf\xe9\r\n\r\nna\xefve \xff\xfe\r\n'))).toBeUndefined();
    expect(messageProblem(msg(`Subject: long body line\r\n\r\n${'x'.repeat(5000)}\r\n`))).toBeUndefined();
    expect(messageProblem(msg('no headers at all\r\n'))).toBeUndefined();
    expect(messageProblem(msg(''))).toBeUndefined();
  });

  it('refuses a NUL byte in the headers or the body, in any chunk, with 554 5.6.0', () => {
    for (const raw of [msg('Subject: a\0b\r\n\r\nbody\r\n'), msg('Subject: s\r\n\r\nbefore\0after\r\n'), [msg('Subject: s\r\n\r\nfirst chunk\r\n'), msg('second \0 chunk\r\n')]]) {
      expect(messageProblem(raw)).toEqual({ code: 554, status: '5.6.0', text: 'message contains a NUL byte' });
    }
  });

  it('refuses a header line over 998 characters (CRLF or bare LF) and takes one of exactly 998', () => {
    const line = (n: number) => `X-Long: ${'y'.repeat(n - 'X-Long: '.length)}`;
    expect(messageProblem(msg(`Subject: s\r\n${line(998)}\r\n\r\nbody\r\n`))).toBeUndefined();
    expect(messageProblem(msg(`Subject: s\r\n${line(999)}\r\n\r\nbody\r\n`))).toEqual({ code: 554, status: '5.6.0', text: 'header line 2 is longer than 998 characters' });
    expect(messageProblem(msg(`${line(2000)}\n\nbody\n`))).toMatchObject({ status: '5.6.0', text: 'header line 1 is longer than 998 characters' });
    // A long header folded into short lines is fine.
    expect(messageProblem(msg(`X-Folded: ${Array.from({ length: 40 }, () => 'word'.repeat(10)).join('\r\n ')}\r\n\r\nbody\r\n`))).toBeUndefined();
  });

  it('finds a long header line across DATA chunks', () => {
    expect(messageProblem([msg(`Subject: s\r\nX-Long: ${'y'.repeat(600)}`), msg(`${'y'.repeat(600)}\r\n\r\nbody\r\n`)])).toMatchObject({ status: '5.6.0' });
  });

  it(`bounces a message with more than ${MAX_HOPS} Received headers (all of them count, as in Postfix) with 554 5.4.6`, () => {
    expect(messageProblem(msg(`${received(MAX_HOPS)}Subject: s\r\n\r\nbody\r\n`))).toBeUndefined();
    expect(messageProblem(msg(`${received(MAX_HOPS + 1)}Subject: s\r\n\r\nbody\r\n`))).toEqual({ code: 554, status: '5.4.6', text: `too many hops: ${MAX_HOPS + 1} Received headers (at most ${MAX_HOPS}), the message is looping` });
    // Any spelling of the name counts; a Received line in the body does not.
    expect(messageProblem(msg(`${received(MAX_HOPS).toLowerCase()}RECEIVED : by x; now\r\n\r\nbody\r\n`))).toMatchObject({ status: '5.4.6' });
    expect(messageProblem(msg(`${received(MAX_HOPS)}\r\n${received(10)}`))).toBeUndefined();
  });
});
