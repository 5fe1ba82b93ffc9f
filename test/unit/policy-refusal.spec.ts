import { describe, expect, it } from 'vitest';
import { isPolicyRefusal, outcomeOfError, outcomeOfResult } from '../../src/delivery/outcome.js';
import type { TransportError } from '../../src/delivery/transport.js';

const err = (fields: Partial<TransportError>): TransportError => Object.assign(new Error(fields.response ?? 'failed'), fields);

describe("a relay's policy refusal defers (soft bounce) with an alarm; a mailbox refusal bounces", () => {
  it('tells policy refusals from the rest', () => {
    expect(isPolicyRefusal(554, '554 5.7.1 <a@example.net>: Relay access denied')).toBe(true);
    expect(isPolicyRefusal(550, '550 5.7.1 Sender not authorised')).toBe(true);
    expect(isPolicyRefusal(530, '530 Authentication required')).toBe(true);
    expect(isPolicyRefusal(504, '504 5.5.2 <nas>: Helo command rejected: need fully-qualified hostname')).toBe(true);
    expect(isPolicyRefusal(550, '5.7.26 Unauthenticated email is not accepted')).toBe(true);
    expect(isPolicyRefusal(550, '550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown')).toBe(false);
    expect(isPolicyRefusal(552, '552 5.3.4 Message size exceeds fixed limit')).toBe(false);
    expect(isPolicyRefusal(454, '454 4.7.1 Relay access denied')).toBe(false);
    expect(isPolicyRefusal(null, '5.7.1 no code')).toBe(false);
  });

  it('554 5.7.1 on every recipient: deferred, with the reply and the alarm', () => {
    const e = err({
      code: 'EENVELOPE',
      responseCode: 554,
      command: 'RCPT TO',
      response: '554 5.7.1 <b@example.net>: Relay access denied',
      relay: 'relay.example.com:587',
      rejectedErrors: ['a@example.net', 'b@example.net'].map((recipient) => ({ recipient, responseCode: 554, response: `554 5.7.1 <${recipient}>: Relay access denied`, message: 'refused' })),
    });
    const o = outcomeOfError(e, ['a@example.net', 'b@example.net']);
    expect(o.recipients).toEqual([
      { recipient: 'a@example.net', status: 'deferred', reply: '554 5.7.1 <a@example.net>: Relay access denied', code: 554 },
      { recipient: 'b@example.net', status: 'deferred', reply: '554 5.7.1 <b@example.net>: Relay access denied', code: 554 },
    ]);
    expect(o.policy).toEqual({ reply: '554 5.7.1 <a@example.net>: Relay access denied' });
  });

  it('550 5.7.1 at MAIL FROM and 504 Helo rejected defer; 550 5.1.1 at RCPT bounces', () => {
    const mail = outcomeOfError(err({ code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM', response: '550 5.7.1 <nas@example.com>: Sender address rejected: not owned by user' }), ['a@example.net']);
    expect(mail.recipients[0]!.status).toBe('deferred');
    expect(mail.policy?.reply).toMatch(/^550 5\.7\.1/);
    const helo = outcomeOfError(err({ code: 'EENVELOPE', responseCode: 504, command: 'RCPT TO', response: '504 5.5.2 <nas>: Helo command rejected: need fully-qualified hostname' }), ['a@example.net']);
    expect(helo.recipients[0]!.status).toBe('deferred');
    const unknown = outcomeOfError(
      err({ code: 'EENVELOPE', responseCode: 550, rejectedErrors: [{ recipient: 'nobody@example.net', responseCode: 550, response: '550 5.1.1 <nobody@example.net>: User unknown', message: 'x' }] }),
      ['nobody@example.net'],
    );
    expect(unknown.recipients[0]!.status).toBe('bounced');
    expect(unknown.policy).toBeUndefined();
  });

  it('some recipients refused on policy, others taken: only those deferred', () => {
    const o = outcomeOfResult({
      accepted: ['ok@example.net'],
      rejected: [
        { recipient: 'far@elsewhere.org', code: 554, reply: '554 5.7.1 <far@elsewhere.org>: Relay access denied' },
        { recipient: 'nobody@example.net', code: 550, reply: '550 5.1.1 User unknown' },
      ],
      reply: '250 2.0.0 Ok',
      relay: 'relay:25',
    });
    expect(o.recipients.map((r) => r.status)).toEqual(['sent', 'deferred', 'bounced']);
    expect(o.policy?.reply).toMatch(/Relay access denied/);
  });

  it('several relays failed, one of them on policy: the alarm names it', () => {
    const combined = Object.assign(err({ code: 'ECONNECTION', response: 'all 2 relays failed' }), {
      attempts: [
        { relay: 'a:25', kind: 'connection', reply: 'connect ECONNREFUSED' },
        { relay: 'b:25', kind: 'rejected', reply: '550 5.7.1 Sender not authorised' },
      ],
    });
    const o = outcomeOfError(combined, ['x@example.net']);
    expect(o.recipients[0]!.status).toBe('deferred');
    expect(o.policy).toEqual({ reply: 'b:25: 550 5.7.1 Sender not authorised' });
  });
});
