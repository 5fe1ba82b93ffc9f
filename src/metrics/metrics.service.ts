import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { DataSource, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { ROOT_LOGGER } from '../logging/logging.module.js';
/** What the metrics need from a mail-log entry (the mail log, a floor above, passes its own). */
export interface CountedEntry {
  /** received, sent, deferred, bounced, rejected … */
  event: string;
  delayMs?: number | null;
  reply?: string | null;
}

const PENDING = 'postroomMetricsPending';
const QUEUE_STATES = ['queued', 'deferred', 'hold', 'sending'] as const;
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
 * is written there, and an entry counts once its transaction has committed. Queue depth, the
 * oldest message's age, relay health and database reachability are read from PostgreSQL at
 * scrape time, so they are the same on every instance.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly log: Logger;
  private readonly received: Counter;
  private readonly delivered: Counter;
  private readonly deferred: Counter;
  private readonly bounced: Counter;
  private readonly rejected: Counter<'reason'>;
  private readonly heldBack: Counter<'reason'>;
  private readonly digests: Counter;
  private readonly latency: Histogram;
  /** Set by the database monitor; null until its first ping. */
  private databaseUp: boolean | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
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
    this.latency = new Histogram({ name: 'postroom_delivery_latency_seconds', help: 'Time from submission to delivery, per delivered recipient', buckets: LATENCY_BUCKETS, registers });

    const self = this;
    new Gauge({
      name: 'postroom_queue_depth',
      help: 'Messages in the queue by state (all instances)',
      labelNames: ['state'],
      registers,
      async collect() {
        const rows = await self.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM message GROUP BY state`);
        this.reset();
        if (!rows) return;
        for (const state of QUEUE_STATES) this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
      },
    });
    new Gauge({
      name: 'postroom_queue_oldest_message_age_seconds',
      help: 'Age of the oldest message waiting in the queue (queued, deferred or sending; 0 when empty)',
      registers,
      async collect() {
        const rows = await self.query<{ s: number | null }>(
          `SELECT EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS s FROM message WHERE state IN ('queued', 'deferred', 'sending')`,
        );
        this.reset();
        if (rows) this.set(Math.max(0, rows[0]?.s ?? 0));
      },
    });
    new Gauge({
      name: 'postroom_relay_up',
      help: 'Relay health from its last outcome: 1 when the last attempt through it reached it, 0 when it failed',
      labelNames: ['relay'],
      registers,
      async collect() {
        this.reset();
        const exists = await self.query<{ t: string | null }>(`SELECT to_regclass('relay_health')::text AS t`);
        if (!exists?.[0]?.t) return;
        const rows = await self.query<{ relay: string; up: boolean }>(
          `SELECT relay, (last_success_at IS NOT NULL AND (last_failure_at IS NULL OR last_success_at >= last_failure_at)) AS up FROM relay_health`,
        );
        for (const r of rows ?? []) this.set({ relay: r.relay }, r.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'postroom_database_up',
      help: 'Whether PostgreSQL answered the last health ping (every 2 s)',
      registers,
      collect() {
        this.set(self.databaseUp === false ? 0 : 1);
      },
    });
  }

  onModuleInit(): void {
    // Counts of entries written inside a transaction wait for its COMMIT (and vanish on ROLLBACK).
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: (event: TransactionCommitEvent) => this.settle(event.queryRunner, true),
      afterTransactionRollback: (event: TransactionRollbackEvent) => this.settle(event.queryRunner, false),
    };
    this.db.subscribers.push(subscriber);
  }

  /**
   * Called by MailLogService.append for every entry it writes. Inside a transaction the counts
   * are kept on the query runner until it commits.
   */
  countMailLog(entries: CountedEntry[], runner: QueryRunner | undefined): void {
    if (runner?.isTransactionActive) {
      const pending = ((runner.data as Record<string, unknown>)[PENDING] ??= []) as CountedEntry[];
      for (const e of entries) pending.push({ event: e.event, delayMs: e.delayMs, reply: e.reply });
      return;
    }
    this.count(entries);
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

  private settle(runner: QueryRunner, committed: boolean): void {
    const data = runner.data as Record<string, unknown>;
    const pending = data[PENDING] as CountedEntry[] | undefined;
    if (!pending || runner.isTransactionActive) return; // a savepoint: wait for the outer transaction
    delete data[PENDING];
    if (committed) this.count(pending);
  }

  private count(entries: CountedEntry[]): void {
    for (const e of entries) {
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

  /** A scrape-time query; null (and the series left out) when the database does not answer. */
  private async query<T>(sql: string): Promise<T[] | null> {
    try {
      return await Promise.race([
        this.db.query(sql) as Promise<T[]>,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('metrics query timed out')), 2000).unref()),
      ]);
    } catch (err) {
      this.log.debug({ err }, 'metrics: database query failed');
      return null;
    }
  }
}
