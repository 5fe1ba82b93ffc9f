import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { isChannelRecipient } from '../common/channel-recipient.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
/** What the metrics need from a mail-log entry (the mail log, a floor above, passes its own). */
export interface CountedEntry {
  /** received, sent, deferred, bounced, rejected … */
  event: string;
  /** A notification channel's (channel:<id>) outcomes are counted apart from mail's. */
  recipient?: string;
  delayMs?: number | null;
  reply?: string | null;
}

/** One series of a gauge read at scrape time: its labels (none for a gauge without) and value. */
export interface GaugeReading<L extends string> {
  labels?: Record<L, string>;
  value: number;
}

/** A gauge its owner reads at scrape time (queue depth from the queue, relay health from the relays). */
export interface ScrapeGauge<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  read(): Promise<GaugeReading<L>[]>;
}

/** How long a scrape waits for a gauge's reading before leaving its series out. */
const SCRAPE_READ_MS = 2000;
/** Submission → delivered, seconds: from a local hop (tens of ms) to the end of a 5-day lifetime. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600];

/** The short reason label of a rejection at intake, kept to a few values (bounded cardinality). */
export function rejectionReason(reply: string | null | undefined): string {
  const r = (reply ?? '').toLowerCase();
  if (r.includes('size')) return 'size';
  if (r.includes('recipient')) return 'recipient';
  if (r.includes('sender')) return 'sender';
  if (r.includes('network') || r.includes('not allowed')) return 'network';
  if (r.includes('nul byte') || r.includes('header line')) return 'content';
  if (r.includes('hops')) return 'loop';
  if (r.includes('timeout')) return 'timeout';
  return 'other';
}

/**
 * Prometheus metrics (`GET /metrics`). Totals are this instance's counters (with several
 * instances, sum them in PromQL); they follow the mail log exactly: every reception and outcome
 * is written there, and an entry counts once it is committed. The gauges of the queue and the
 * relays are read at scrape time by the modules that own those tables (registerGauge), so they
 * are the same on every instance; this module knows no domain and no table.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly log: Logger;
  private readonly received: Counter;
  private readonly delivered: Counter;
  private readonly deferred: Counter;
  private readonly bounced: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly heldBack: Counter<'reason'>;
  private readonly digests: Counter;
  private readonly channelPosts: Counter<'outcome'>;
  private readonly latency: Histogram;
  /** Set by the database monitor; null until its first ping. */
  private databaseUp: boolean | null = null;

  constructor(@Inject(ROOT_LOGGER) root: Logger) {
    this.log = root.child({ module: 'metrics' });
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'postroom_' });
    this.received = new Counter({ name: 'postroom_messages_received_total', help: 'Messages accepted at intake (committed to the queue), this instance', registers });
    this.delivered = new Counter({ name: 'postroom_recipients_delivered_total', help: 'Recipients delivered (relay or MX answered 250), this instance', registers });
    this.deferred = new Counter({ name: 'postroom_recipients_deferred_total', help: 'Recipient deferrals (temporary failures; one recipient may count several times), this instance', registers });
    this.bounced = new Counter({ name: 'postroom_recipients_bounced_total', help: 'Recipients bounced (5xx or lifetime expired), this instance', registers });
    this.rejected = new Counter({ name: 'postroom_messages_rejected_total', help: 'Messages refused at intake, by reason, this instance', labelNames: ['reason'], registers });
    this.heldBack = new Counter({ name: 'postroom_messages_held_back_total', help: 'Messages accepted but held back by alert-storm protection, by reason (duplicate, rate), this instance', labelNames: ['reason'], registers });
    this.digests = new Counter({ name: 'postroom_storm_digests_total', help: 'Alert-storm digest messages queued, this instance', registers });
    this.channelPosts = new Counter({ name: 'postroom_channel_posts_total', help: 'Notification channel deliveries by outcome (sent, deferred, bounced): in no recipient counter, this instance', labelNames: ['outcome'], registers });
    this.latency = new Histogram({ name: 'postroom_delivery_latency_seconds', help: 'Time from submission to delivery, per delivered recipient', buckets: LATENCY_BUCKETS, registers });

    const self = this;
    new Gauge({
      name: 'postroom_database_up',
      help: 'Whether PostgreSQL answered the last health ping (every 2 s)',
      registers,
      collect() {
        this.set(self.databaseUp === false ? 0 : 1);
      },
    });
  }

  /**
   * Adds a gauge its owner reads at every scrape. A reading that fails or takes longer than 2 s
   * (the database is away) leaves the gauge's series out of that scrape rather than failing it.
   */
  registerGauge<L extends string>(gauge: ScrapeGauge<L>): void {
    const self = this;
    new Gauge<L>({
      name: gauge.name,
      help: gauge.help,
      labelNames: gauge.labelNames ?? [],
      registers: [this.registry],
      async collect() {
        const readings = await self.withinScrape(gauge);
        this.reset();
        for (const r of readings ?? []) {
          if (r.labels) this.set(r.labels, r.value);
          else this.set(r.value);
        }
      },
    });
  }

  heldBackMessage(reason: 'duplicate' | 'rate', n = 1): void {
    this.heldBack.inc({ reason }, n);
  }

  digestQueued(): void {
    this.digests.inc();
  }

  setDatabaseUp(up: boolean): void {
    this.databaseUp = up;
  }

  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Called by the mail log for the entries it has committed. */
  countMailLog(entries: CountedEntry[]): void {
    for (const e of entries) {
      if (e.recipient !== undefined && (e.event === 'sent' || e.event === 'deferred' || e.event === 'bounced') && isChannelRecipient(e.recipient)) {
        this.channelPosts.inc({ outcome: e.event });
        continue;
      }
      switch (e.event) {
        case 'received':
          this.received.inc();
          break;
        case 'sent':
          this.delivered.inc();
          if (typeof e.delayMs === 'number') this.latency.observe(Math.max(0, e.delayMs) / 1000);
          break;
        case 'deferred':
          this.deferred.inc();
          break;
        case 'bounced':
          this.bounced.inc();
          break;
        case 'rejected':
          this.rejected.inc({ reason: rejectionReason(e.reply) });
          break;
      }
    }
  }

  /** A gauge's reading; null (its series left out) when it fails or does not come in time. */
  private async withinScrape<L extends string>(gauge: ScrapeGauge<L>): Promise<GaugeReading<L>[] | null> {
    try {
      return await Promise.race([
        gauge.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${gauge.name}: no reading within ${SCRAPE_READ_MS} ms`)), SCRAPE_READ_MS).unref()),
      ]);
    } catch (err) {
      this.log.debug({ err }, 'metrics: a gauge could not be read');
      return null;
    }
  }
}
