import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { EventLogService } from '../events/event-log.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

/** One event per relay at most this often while its refusals go on. */
const EVENT_INTERVAL_MS = 60_000;
/** The dashboard shows a refusal this long after the last event about it. */
const RECENT_MS = 15 * 60_000;

export interface PolicyAlarm {
  relay: string;
  reply: string;
  at: string;
}

/**
 * The alarm for a relay's policy refusals (outcome.ts isPolicyRefusal: 5.7.x, 530, a refused
 * EHLO name). Such mail is deferred, not bounced, so nobody would learn of it from a bounce:
 * an event at level error naming the relay and its reply (once a minute per relay, with how
 * many were left out), a counter, and the dashboard's banner, read from the event log so every
 * instance shows what any instance met.
 */
@Injectable()
export class RelayAlarms {
  private readonly counter: Counter<'relay'>;
  private readonly lastEvent = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly events: EventLogService,
    metrics: MetricsService,
  ) {
    this.counter = new Counter({
      name: 'postroom_relay_policy_refusals_total',
      help: "Attempts a relay refused on policy grounds (5.7.x, 530, EHLO name): Postroom's configuration; the mail is deferred, this instance",
      labelNames: ['relay'],
      registers: [metrics.registry],
    });
  }

  async policyRefused(relay: string | null, reply: string, queueId: string): Promise<void> {
    const where = relay ?? 'direct (MX)';
    this.counter.inc({ relay: where });
    const now = Date.now();
    const last = this.lastEvent.get(where);
    if (last && now - last.at < EVENT_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.lastEvent.set(where, { at: now, suppressed: 0 });
    await this.events.recordSafely({
      level: 'error',
      source: 'delivery',
      message: `Relay ${where} refused mail on policy grounds: ${reply} — check Postroom's sender address, login, relaying rights and EHLO name; the mail is deferred, not bounced, until its lifetime ends`,
      details: { kind: 'policy', relay: where, reply, queueId, similarSinceLastEvent: last?.suppressed ?? 0 },
    });
  }

  /** Relays that refused on policy grounds within RECENT_MS (any instance), latest first, one per relay. */
  async recent(now = new Date()): Promise<PolicyAlarm[]> {
    // Filtered in SQL: other delivery errors of the same minutes must not crowd them out.
    const page = await this.events.list({ level: 'error', source: 'delivery', kind: 'policy', since: new Date(now.getTime() - RECENT_MS), limit: 100 });
    const byRelay = new Map<string, PolicyAlarm>();
    for (const e of page.items) {
      const d = e.details ?? {};
      if (typeof d.relay !== 'string' || byRelay.has(d.relay)) continue;
      byRelay.set(d.relay, { relay: d.relay, reply: typeof d.reply === 'string' ? d.reply : '', at: e.at });
    }
    return [...byRelay.values()];
  }
}
