import { describe, expect, it } from 'vitest';
import { alignRecipients, failureKind, outcomeOfError, outcomeOfResult, replyCode, replyText } from '../../src/delivery/outcome.js';
import { TransportError } from '../../src/delivery/transport.js';

function transportError(message: string, fields: Partial<TransportError> = {}): TransportError {
  return Object.assign(new Error(message), fields) as TransportError;
}

describe('failureKind', () => {
  it.each([
    ['EAUTH', 'auth'],
    ['ENOAUTH', 'auth'],
    ['EOAUTH2', 'auth'],
    ['ETLS', 'tls'],
    ['ETIMEDOUT', 'timeout'],
    ['EDNS', 'dns'],
    ['ENOTFOUND', 'dns'],
    ['EENVELOPE', 'rejected'],
    ['EMESSAGE', 'rejected'],
    ['ECONNECTION', 'connection'],
    ['ESOCKET', 'connection'],
    ['ECONNREFUSED', 'connection'],
  ] as const)('maps nodemailer code %s to %s', (code, kind) => {
    expect(failureKind(transportError('failed', { code }))).toBe(kind);
  });

  it('calls a connection or socket error about certificates or TLS a TLS failure', () => {
    expect(failureKind(transportError('self-signed certificate in certificate chain', { code: 'ECONNECTION' }))).toBe('tls');
    expect(failureKind(transportError('self signed certificate', { code: 'ESOCKET' }))).toBe('tls');
    expect(failureKind(transportError('unable to verify the first certificate', { code: 'ESOCKET' }))).toBe('tls');
    expect(failureKind(transportError('SSL routines:wrong version number', { code: 'ECONNECTION' }))).toBe('tls');
    expect(failureKind(transportError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ECONNECTION' }))).toBe('connection');
  });

  it('calls an error without a known code but with an SMTP reply code a rejection', () => {
    expect(failureKind(transportError('Message failed', { code: 'EPROTOCOL', responseCode: 554 }))).toBe('rejected');
    expect(failureKind(transportError('Message failed', { responseCode: 451 }))).toBe('rejected');
  });

  it('calls an error without code or reply code a TLS failure when its text says so, otherwise a protocol failure', () => {
    expect(failureKind(transportError('Client network socket disconnected before secure TLS connection was established'))).toBe('tls');
    expect(failureKind(transportError('Invalid greeting from server'))).toBe('protocol');
    expect(failureKind(transportError('weird', { code: 'EWHATEVER' }))).toBe('protocol');
  });

  it('keeps an authentication failure as auth even with a 535 reply code', () => {
    expect(failureKind(transportError('Invalid login: 535 5.7.8 bad credentials', { code: 'EAUTH', responseCode: 535 }))).toBe('auth');
  });
});

describe('replyText', () => {
  it('prefers the server response and puts it on one line', () => {
    expect(replyText(transportError('Message failed', { response: '550-5.1.1 No such user\r\n550 5.1.1 Try again  ' }))).toBe('550-5.1.1 No such user 550 5.1.1 Try again');
  });

  it('falls back to the error message, then to "unknown error"', () => {
    expect(replyText(transportError('connect ECONNREFUSED\n127.0.0.1:25'))).toBe('connect ECONNREFUSED 127.0.0.1:25');
    expect(replyText(transportError(''))).toBe('unknown error');
  });

  it('cuts the text to 1000 characters', () => {
    expect(replyText(transportError('x'.repeat(5000)))).toBe('x'.repeat(1000));
  });
});

describe('replyCode', () => {
  it('reads the three-digit code at the start of an SMTP reply', () => {
    expect(replyCode('250 2.0.0 Ok: queued as 4F2B1')).toBe(250);
    expect(replyCode('554 5.7.1 Rejected')).toBe(554);
    expect(replyCode('451-4.3.0 temporary')).toBe(451);
    expect(replyCode('250')).toBe(250);
  });

  it('returns null when the text does not start with a 2xx-5xx code', () => {
    expect(replyCode('')).toBeNull();
    expect(replyCode('Ok')).toBeNull();
    expect(replyCode('150 intermediate')).toBeNull();
    expect(replyCode('650 not smtp')).toBeNull();
    expect(replyCode('2500 too long')).toBeNull();
    expect(replyCode(' 250 leading space')).toBeNull();
  });
});

describe('outcomeOfResult', () => {
  it('marks every accepted recipient sent with the final reply and its code', () => {
    expect(outcomeOfResult({ accepted: ['a@example.net', 'b@example.net'], rejected: [], reply: '250 2.0.0 Ok: queued as 4F2B1', relay: 'smtp.example.com:587' })).toEqual({
      relay: 'smtp.example.com:587',
      recipients: [
        { recipient: 'a@example.net', status: 'sent', reply: '250 2.0.0 Ok: queued as 4F2B1', code: 250 },
        { recipient: 'b@example.net', status: 'sent', reply: '250 2.0.0 Ok: queued as 4F2B1', code: 250 },
      ],
    });
  });

  it('bounces recipients refused with 5xx and defers those refused with 4xx or no code', () => {
    const outcome = outcomeOfResult({
      accepted: ['ok@example.net'],
      rejected: [
        { recipient: 'gone@example.net', code: 550, reply: '550 5.1.1 No such user' },
        { recipient: 'full@example.net', code: 452, reply: '452 4.2.2 Mailbox full' },
        { recipient: 'odd@example.net', code: null, reply: 'no reply' },
      ],
      reply: '250 Ok',
      relay: 'mx.example.net:25',
    });
    expect(outcome.failure).toBeUndefined();
    expect(outcome.recipients).toEqual([
      { recipient: 'ok@example.net', status: 'sent', reply: '250 Ok', code: 250 },
      { recipient: 'gone@example.net', status: 'bounced', reply: '550 5.1.1 No such user', code: 550 },
      { recipient: 'full@example.net', status: 'deferred', reply: '452 4.2.2 Mailbox full', code: 452 },
      { recipient: 'odd@example.net', status: 'deferred', reply: 'no reply', code: null },
    ]);
  });

  it('gives a sent recipient a null code when the reply has none', () => {
    expect(outcomeOfResult({ accepted: ['a@example.net'], rejected: [], reply: '', relay: 'direct (MX)' }).recipients).toEqual([
      { recipient: 'a@example.net', status: 'sent', reply: '', code: null },
    ]);
  });
});

describe('outcomeOfError', () => {
  const pending = ['a@example.net', 'b@example.net'];

  it('judges each recipient by its own refusal when the error carries rejectedErrors', () => {
    const err = transportError("Can't send mail - all recipients were rejected", {
      code: 'EENVELOPE',
      responseCode: 550,
      relay: 'smtp.example.com:587',
      rejectedErrors: [
        { recipient: 'a@example.net', responseCode: 550, response: '550 5.1.1 <a@example.net>:\r\n user unknown', message: 'Recipient command failed' },
        { recipient: 'b@example.net', responseCode: 450, response: '450 4.2.0 greylisted', message: 'Recipient command failed' },
      ],
    });
    expect(outcomeOfError(err, pending)).toEqual({
      relay: 'smtp.example.com:587',
      failure: { kind: 'rejected', reply: "Can't send mail - all recipients were rejected" },
      recipients: [
        { recipient: 'a@example.net', status: 'bounced', reply: '550 5.1.1 <a@example.net>: user unknown', code: 550 },
        { recipient: 'b@example.net', status: 'deferred', reply: '450 4.2.0 greylisted', code: 450 },
      ],
    });
  });

  it('uses the refusal message when a rejectedErrors entry has no response', () => {
    const err = transportError('failed', { code: 'EENVELOPE', rejectedErrors: [{ recipient: 'a@example.net', responseCode: 451, message: 'Recipient command failed' }] });
    expect(outcomeOfError(err, ['a@example.net']).recipients).toEqual([{ recipient: 'a@example.net', status: 'deferred', reply: 'Recipient command failed', code: 451 }]);
  });

  it('bounces every recipient on a 5xx reply to DATA', () => {
    const err = transportError('Message failed: 554 5.6.0 Message rejected', { code: 'EMESSAGE', responseCode: 554, response: '554 5.6.0 Message rejected', command: 'DATA' });
    expect(outcomeOfError(err, pending)).toEqual({
      relay: null,
      failure: { kind: 'rejected', reply: '554 5.6.0 Message rejected' },
      recipients: [
        { recipient: 'a@example.net', status: 'bounced', reply: '554 5.6.0 Message rejected', code: 554 },
        { recipient: 'b@example.net', status: 'bounced', reply: '554 5.6.0 Message rejected', code: 554 },
      ],
    });
  });

  it('bounces every recipient on a 5xx reply to MAIL FROM', () => {
    const err = transportError('Mail command failed', { code: 'EENVELOPE', responseCode: 553, response: '553 5.1.8 Sender address rejected: Domain not found', command: 'MAIL FROM' });
    expect(outcomeOfError(err, pending).recipients.map((r) => [r.status, r.code])).toEqual([
      ['bounced', 553],
      ['bounced', 553],
    ]);
  });

  it('defers every recipient on a 4xx reply to DATA', () => {
    const err = transportError('Message failed', { code: 'EMESSAGE', responseCode: 451, response: '451 4.3.0 Try again later', command: 'DATA' });
    const outcome = outcomeOfError(err, pending);
    expect(outcome.failure).toEqual({ kind: 'rejected', reply: '451 4.3.0 Try again later' });
    expect(outcome.recipients).toEqual([
      { recipient: 'a@example.net', status: 'deferred', reply: '451 4.3.0 Try again later', code: 451 },
      { recipient: 'b@example.net', status: 'deferred', reply: '451 4.3.0 Try again later', code: 451 },
    ]);
  });

  it('defers, never bounces, on an authentication failure with 535', () => {
    const err = transportError('Invalid login: 535 5.7.8 Authentication credentials invalid', {
      code: 'EAUTH',
      responseCode: 535,
      response: '535 5.7.8 Authentication credentials invalid',
      command: 'AUTH PLAIN',
      relay: 'smtp.example.com:587',
    });
    expect(outcomeOfError(err, pending)).toEqual({
      relay: 'smtp.example.com:587',
      failure: { kind: 'auth', reply: '535 5.7.8 Authentication credentials invalid' },
      recipients: [
        { recipient: 'a@example.net', status: 'deferred', reply: '535 5.7.8 Authentication credentials invalid', code: 535 },
        { recipient: 'b@example.net', status: 'deferred', reply: '535 5.7.8 Authentication credentials invalid', code: 535 },
      ],
    });
  });

  it('defers on a TLS failure even with a 5xx reply to STARTTLS', () => {
    const err = transportError('Error upgrading connection with STARTTLS', { code: 'ETLS', responseCode: 554, response: '554 5.7.3 TLS not available' });
    const outcome = outcomeOfError(err, pending);
    expect(outcome.failure?.kind).toBe('tls');
    expect(outcome.recipients.map((r) => r.status)).toEqual(['deferred', 'deferred']);
  });

  it('defers every recipient with a null code on connection errors and timeouts', () => {
    for (const [code, kind] of [
      ['ECONNECTION', 'connection'],
      ['ESOCKET', 'connection'],
      ['ETIMEDOUT', 'timeout'],
      ['EDNS', 'dns'],
    ] as const) {
      const outcome = outcomeOfError(transportError('connect ECONNREFUSED 192.0.2.1:587', { code }), pending);
      expect(outcome).toEqual({
        relay: null,
        failure: { kind, reply: 'connect ECONNREFUSED 192.0.2.1:587' },
        recipients: [
          { recipient: 'a@example.net', status: 'deferred', reply: 'connect ECONNREFUSED 192.0.2.1:587', code: null },
          { recipient: 'b@example.net', status: 'deferred', reply: 'connect ECONNREFUSED 192.0.2.1:587', code: null },
        ],
      });
    }
  });

  it('returns no recipients when none were pending', () => {
    expect(outcomeOfError(transportError('down', { code: 'ECONNECTION' }), []).recipients).toEqual([]);
  });
});

describe('alignRecipients', () => {
  const sent = (recipient: string) => ({ recipient, status: 'sent' as const, reply: '250 ok', code: 250 });

  it('keeps the queue spelling when the transport reports a lower-cased domain', () => {
    const aligned = alignRecipients({ relay: 'r', recipients: [sent('Ops@example.com'), sent('b@example.org')] }, ['Ops@Example.COM', 'b@example.org']);
    expect(aligned.recipients).toEqual([sent('Ops@Example.COM'), sent('b@example.org')]);
  });

  it('leaves recipients the transport did not mention pending, and ignores addresses it never had', () => {
    const aligned = alignRecipients({ relay: 'r', recipients: [sent('stranger@example.net'), sent('a@example.com')] }, ['a@example.com', 'c@example.com']);
    expect(aligned.recipients).toEqual([sent('a@example.com'), { recipient: 'c@example.com', status: 'deferred', reply: 'no answer for this recipient', code: null }]);
  });
});
