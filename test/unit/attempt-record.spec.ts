import { describe, expect, it } from 'vitest';
import { AttemptOutcome } from '../../src/delivery/outcome.js';
import { attemptRecord } from '../../src/delivery/outcome.recorder.js';
import { ClaimedMessage } from '../../src/queue/queue.repository.js';

const NOW = new Date('2026-12-01T12:00:00Z');

function claimed(over: Partial<ClaimedMessage> = {}): ClaimedMessage {
  return {
    id: '0BCDFGHJK12345678',
    state: 'sending',
    sender: 'backup@nas.example',
    recipients: ['a@example.net', 'b@example.net'],
    subject: 'Backup failed',
    message_id: '<m1@nas.example>',
    size: 1234,
    client_address: '127.0.0.1',
    created_at: new Date(NOW.getTime() - 60_000),
    next_attempt_at: NOW,
    attempts: 0,
    last_error: null,
    original_recipients: null,
    hold_reason: null,
    escalation: null,
    data: null,
    ...over,
  };
}

const outcome = (a: AttemptOutcome['recipients'][number]['status'], b: AttemptOutcome['recipients'][number]['status']): AttemptOutcome => ({
  relay: 'relay.example.org:587',
  recipients: [
    { recipient: 'a@example.net', status: a, reply: a === 'sent' ? '250 ok' : a === 'deferred' ? '451 4.7.1 later' : '550 5.1.1 unknown', code: null },
    { recipient: 'b@example.net', status: b, reply: b === 'sent' ? '250 ok' : b === 'deferred' ? '451 4.7.1 later' : '550 5.1.1 unknown', code: null },
  ],
});

describe(attemptRecord.name, () => {
  it('finishes a message whose recipients were all sent: nothing pending, no event, a line each', () => {
    const r = attemptRecord(claimed(), 'w1', outcome('sent', 'sent'), 120, NOW);
    expect(r.finish).toEqual({ id: '0BCDFGHJK12345678', owner: 'w1', pending: [], nextAttemptAt: null, lastError: null });
    expect(r.lines.map((l) => [l.recipient, l.event, l.attempt, l.delayMs, l.relay])).toEqual([
      ['a@example.net', 'sent', 1, 60_000, 'relay.example.org:587'],
      ['b@example.net', 'sent', 1, 60_000, 'relay.example.org:587'],
    ]);
    expect(r.events).toEqual([]);
    expect([r.bounced, r.deferred, r.expired]).toEqual([[], [], false]);
  });

  it('defers the recipients that got a 4xx for the next attempt of the schedule, with the reply as last error', () => {
    const r = attemptRecord(claimed({ attempts: 1 }), 'w1', outcome('sent', 'deferred'), 120, NOW);
    expect(r.finish).toEqual({ id: '0BCDFGHJK12345678', owner: 'w1', pending: ['b@example.net'], nextAttemptAt: new Date(NOW.getTime() + 600_000), lastError: '451 4.7.1 later' });
    expect(r.deferred).toEqual(['b@example.net']);
    expect(r.lines.map((l) => [l.event, l.attempt])).toEqual([['sent', 2], ['deferred', 2]]);
  });

  it('bounces a 5xx recipient with a warning event naming it, and defers none', () => {
    const r = attemptRecord(claimed(), 'w1', outcome('bounced', 'sent'), 120, NOW);
    expect(r.finish.nextAttemptAt).toBeNull();
    expect(r.bounced).toEqual(['a@example.net']);
    expect(r.events).toHaveLength(1);
    expect(r.events![0]).toMatchObject({ level: 'warning', source: 'delivery', queueId: '0BCDFGHJK12345678', message: 'Bounced: message 0BCDFGHJK12345678 to a@example.net' });
  });

  it('bounces whoever is still deferred at the end of the lifetime, with the last error in the reply', () => {
    const old = claimed({ created_at: new Date(NOW.getTime() - 2 * 3_600_000) });
    const r = attemptRecord(old, 'w1', outcome('deferred', 'deferred'), 1, NOW);
    expect(r.expired).toBe(true);
    expect(r.finish).toMatchObject({ pending: [], nextAttemptAt: null, lastError: null });
    expect(r.lines.map((l) => [l.event, l.reply])).toEqual([
      ['bounced', 'message expired after 1 h in the queue; last error: 451 4.7.1 later'],
      ['bounced', 'message expired after 1 h in the queue; last error: 451 4.7.1 later'],
    ]);
    expect(r.events![0]!.message).toBe('Expired: message 0BCDFGHJK12345678 to a@example.net, b@example.net');
  });

  describe('channels', () => {
    const step = (afterMinutes: number, channels = [3]) => ({ channels, afterMinutes, rule: 'Pool alerts' });

    it('adds the channels of an undelivered rule at the first failed attempt (afterMinutes 0), due at once, and says so', () => {
      const r = attemptRecord(claimed({ recipients: ['a@example.net'], escalation: [step(0)] }), 'w1', { relay: 'relay:25', recipients: [{ recipient: 'a@example.net', status: 'deferred', reply: '421 down', code: 421 }] }, 120, NOW, new Map([[3, 'Ops phone']]));
      expect(r.finish).toMatchObject({ pending: ['a@example.net', 'channel:3'], nextAttemptAt: NOW, escalation: [] });
      expect(r.events!.map((e) => e.message)).toEqual(['Mail did not deliver message 0BCDFGHJK12345678: sent to Ops phone by rule Pool alerts']);
    });

    it('waits for afterMinutes while mail only defers, coming back no later than then', () => {
      const steps = [step(3)];
      const r = attemptRecord(claimed({ recipients: ['a@example.net'], escalation: steps }), 'w1', { relay: 'relay:25', recipients: [{ recipient: 'a@example.net', status: 'deferred', reply: '421 down', code: 421 }] }, 120, NOW);
      // Arrived a minute ago: the step is due in 2 minutes, before the 5-minute backoff.
      expect(r.finish).toMatchObject({ pending: ['a@example.net'], nextAttemptAt: new Date(NOW.getTime() + 120_000), escalation: steps });
      expect(r.events).toEqual([]);
    });

    it('escalates at once when mail bounced, whatever afterMinutes says, and keeps the message for the channel', () => {
      const r = attemptRecord(claimed({ recipients: ['a@example.net'], escalation: [step(60, [3, 4])] }), 'w1', { relay: 'relay:25', recipients: [{ recipient: 'a@example.net', status: 'bounced', reply: '550 no', code: 550 }] }, 120, NOW);
      expect(r.finish).toMatchObject({ pending: ['channel:3', 'channel:4'], nextAttemptAt: NOW, escalation: [] });
      expect(r.bounced).toEqual(['a@example.net']);
    });

    it('does not escalate when mail was delivered', () => {
      const r = attemptRecord(claimed({ recipients: ['a@example.net'], escalation: [step(0)] }), 'w1', { relay: 'relay:25', recipients: [{ recipient: 'a@example.net', status: 'sent', reply: '250 ok', code: 250 }] }, 120, NOW);
      expect(r.finish).toEqual({ id: '0BCDFGHJK12345678', owner: 'w1', pending: [], nextAttemptAt: null, lastError: null });
    });

    it('names the channel as the relay of its line, and tries it again when its Retry-After says', () => {
      const r = attemptRecord(claimed({ recipients: ['channel:3'] }), 'w1', { relay: null, recipients: [{ recipient: 'channel:3', status: 'deferred', reply: 'HTTP 429', code: 429, relay: 'Phone', retryAfterMs: 2_000 }] }, 120, NOW);
      expect(r.lines[0]).toMatchObject({ recipient: 'channel:3', relay: 'Phone', event: 'deferred' });
      expect(r.finish.nextAttemptAt).toEqual(new Date(NOW.getTime() + 2_000));
    });

    it('after five quick retries, waits for the backoff at least, however short the Retry-After (a service that keeps saying 0)', () => {
      const outcome = { relay: null, recipients: [{ recipient: 'channel:3', status: 'deferred' as const, reply: 'HTTP 503', code: 503, relay: 'Phone', retryAfterMs: 0 }] };
      expect(attemptRecord(claimed({ recipients: ['channel:3'], attempts: 3 }), 'w1', outcome, 120, NOW).finish.nextAttemptAt).toEqual(new Date(NOW.getTime() + 1_000));
      const later = attemptRecord(claimed({ recipients: ['channel:3'], attempts: 5 }), 'w1', outcome, 120, NOW).finish.nextAttemptAt!;
      expect(later.getTime() - NOW.getTime()).toBeGreaterThanOrEqual(5 * 60_000);
    });
  });
});
