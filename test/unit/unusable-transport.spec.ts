import { describe, expect, it } from 'vitest';
import { FailoverTransport, MemoryRelayHealth } from '../../src/delivery/failover-transport.js';
import { outcomeOfError } from '../../src/delivery/outcome.js';
import { MailTransport, SendResult, TransportError } from '../../src/delivery/transport.js';
import { UnusableTransport } from '../../src/delivery/unusable-transport.js';

const REASON = 'the stored password cannot be decrypted with this SECRET_KEY: enter it again';
const envelope = { from: 'nas@example.com', to: ['ops@example.com'] };
const raw = Buffer.from('Subject: x\r\n\r\nbody\r\n');

function working(description: string): MailTransport & { calls: number } {
  return {
    description,
    calls: 0,
    async send(): Promise<SendResult> {
      this.calls++;
      return { accepted: envelope.to, rejected: [], reply: '250 2.0.0 Ok', relay: description };
    },
    close() {},
  };
}

describe(UnusableTransport.name, () => {
  it('is skipped by failover: the next relay takes the message, the health names the reason as an authentication failure', async () => {
    const health = new MemoryRelayHealth();
    const backup = working('b:25');
    const t = new FailoverTransport([{ key: '1', transport: new UnusableTransport('a:25', REASON) }, { key: '2', transport: backup }], { health });
    expect((await t.send(envelope, raw)).relay).toBe('b:25');
    expect(backup.calls).toBe(1);
    expect(health.events[0]).toEqual({ key: '1', relay: 'a:25', ok: false, kind: 'auth', reason: REASON });
  });

  it('alone, defers the message with the reason: never a bounce', async () => {
    const t = new FailoverTransport([{ key: 'primary', transport: new UnusableTransport('a:25', REASON) }]);
    const err = (await t.send(envelope, raw).then(
      () => undefined,
      (e: unknown) => e,
    )) as TransportError;
    expect(err).toMatchObject({ relay: 'a:25', response: REASON });
    const outcome = outcomeOfError(err, envelope.to);
    expect(outcome.failure).toEqual({ kind: 'auth', reply: REASON });
    expect(outcome.recipients).toEqual([{ recipient: 'ops@example.com', status: 'deferred', reply: REASON, code: null }]);
  });
});
