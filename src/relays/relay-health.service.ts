import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { FailureKind, RelayHealthObserver, RelayHealthView, UNKNOWN_HEALTH } from './relay-health.types.js';

/** At most one write per relay this often, except when a relay starts failing or recovers. */
export const HEALTH_FLUSH_MS = 5_000;
const LATENCY_WINDOW = 20;

interface Tracked {
  relay: string;
  /** unknown: not used by this instance yet. */
  state: 'unknown' | 'healthy' | 'failing';
  lastSuccessAt?: number;
  lastFailureAt?: number;
  lastFailureReason?: string;
  lastFailureKind?: FailureKind;
  latencies: number[];
  lastLatencyMs?: number;
  /** Counts not yet written. */
  successes: number;
  failures: number;
  recipientRefusals: number;
  dirty: boolean;
  /** This failing spell was written to the event log here (not when only failures announced where they arose, OAuth2 token requests, made it). */
  announced: boolean;
}

interface HealthRow {
  relay_key: string;
  relay: string;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_failure_reason: string | null;
  last_failure_kind: FailureKind | null;
  latency_ms: number | null;
  last_latency_ms: number | null;
  successes: string;
  failures: string;
  recipient_refusals: string;
}

/**
 * Per-relay health: kept in memory by each instance (the failover order reads it on every
 * message), written to relay_health at most every few seconds per relay — at once when a relay
 * starts failing or recovers, which also goes to the event log (unless the failure was
 * announced where it arose: an OAuth2 token request). Counts are written as increments and
 * times as "the later one", so several instances add up.
 */
@Injectable()
export class RelayHealthService implements RelayHealthObserver, OnApplicationShutdown {
  private readonly tracked = new Map<string, Tracked>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: EventLogService,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'relay-health' });
  }

  succeeded(key: string, relay: string, latencyMs: number, recipientRefusals = 0): void {
    const t = this.track(key, relay);
    t.recipientRefusals += recipientRefusals;
    const recovered = t.state === 'failing';
    const announced = t.announced;
    t.state = 'healthy';
    t.announced = false;
    t.lastSuccessAt = Date.now();
    t.lastLatencyMs = Math.max(0, Math.round(latencyMs));
    t.latencies.push(t.lastLatencyMs);
    if (t.latencies.length > LATENCY_WINDOW) t.latencies.shift();
    t.successes++;
    t.dirty = true;
    if (recovered) {
      // Its end is written only when its start was: the OAuth2 token service writes its own recovery.
      if (announced) void this.events.recordSafely({ level: 'info', source: 'delivery', message: `Relay ${relay} is working again`, details: { relay, relayKey: key } });
      void this.flush();
    } else {
      this.schedule();
    }
  }

  failed(key: string, relay: string, kind: FailureKind, reason: string, announce = true): void {
    const t = this.track(key, relay);
    const startsFailing = t.state !== 'failing';
    t.state = 'failing';
    t.lastFailureAt = Date.now();
    t.lastFailureReason = reason.slice(0, 1000);
    t.lastFailureKind = kind;
    t.failures++;
    t.dirty = true;
    const announcing = announce && !t.announced;
    if (announcing) {
      t.announced = true;
      void this.events.recordSafely({
        level: 'warning',
        source: 'delivery',
        message: `Relay ${relay} is failing (${kind}): ${t.lastFailureReason}`,
        details: { relay, relayKey: key, kind, reason: t.lastFailureReason },
      });
    }
    if (startsFailing || announcing) void this.flush();
    else this.schedule();
  }

  failingSince(key: string, relay: string): number | undefined {
    const t = this.tracked.get(key);
    return t && t.relay === relay && t.state === 'failing' ? t.lastFailureAt : undefined;
  }

  /** The health of these relays (key → address), as stored, after writing what this instance holds. */
  async read(relays: { key: string; relay: string }[]): Promise<Map<string, RelayHealthView>> {
    await this.flush();
    const out = new Map<string, RelayHealthView>();
    if (relays.length === 0) return out;
    const rows: HealthRow[] = await this.db.query(`SELECT * FROM relay_health WHERE relay_key = ANY($1)`, [relays.map((r) => r.key)]);
    const byKey = new Map(rows.map((r) => [r.relay_key, r]));
    for (const { key, relay } of relays) {
      const row = byKey.get(key);
      out.set(key, row && row.relay === relay ? toView(row) : { ...UNKNOWN_HEALTH });
    }
    return out;
  }

  /** Each stored relay, up when its last outcome (of any instance) reached it: the postroom_relay_up gauge. */
  async upByRelay(): Promise<{ relay: string; up: boolean }[]> {
    return this.db.query(`SELECT relay, (last_success_at IS NOT NULL AND (last_failure_at IS NULL OR last_success_at >= last_failure_at)) AS up FROM relay_health`);
  }

  /** A backup relay was removed: its health goes with it. */
  async forget(key: string): Promise<void> {
    this.tracked.delete(key);
    await this.db.query(`DELETE FROM relay_health WHERE relay_key = $1`, [key]);
  }

  /** Writes what changed since the last write (one upsert per changed relay); never throws. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.flushing.then(() => this.write()).catch((err: unknown) => this.log.warn({ err }, 'could not write relay health'));
    return this.flushing;
  }

  private async write(): Promise<void> {
    for (const [key, t] of this.tracked) {
      if (!t.dirty) continue;
      const successes = t.successes;
      const failures = t.failures;
      const recipientRefusals = t.recipientRefusals;
      t.successes = 0;
      t.failures = 0;
      t.recipientRefusals = 0;
      t.dirty = false;
      try {
        await this.db.query(UPSERT, [
          key,
          t.relay,
          t.lastSuccessAt ? new Date(t.lastSuccessAt) : null,
          t.lastFailureAt ? new Date(t.lastFailureAt) : null,
          t.lastFailureReason ?? null,
          t.lastFailureKind ?? null,
          median(t.latencies),
          t.lastLatencyMs ?? null,
          successes,
          failures,
          recipientRefusals,
        ]);
      } catch (err) {
        // Keep the counts for the next write (unless the relay changed meanwhile).
        const now = this.tracked.get(key);
        if (now === t) {
          t.successes += successes;
          t.failures += failures;
          t.recipientRefusals += recipientRefusals;
          t.dirty = true;
          this.schedule();
        }
        throw err;
      }
    }
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, HEALTH_FLUSH_MS).unref();
  }

  private track(key: string, relay: string): Tracked {
    let t = this.tracked.get(key);
    if (!t || t.relay !== relay) {
      t = { relay, state: 'unknown', latencies: [], successes: 0, failures: 0, recipientRefusals: 0, dirty: false, announced: false };
      this.tracked.set(key, t);
    }
    return t;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}

/**
 * Counts add up; a time is the later of the stored and the new one; the failure's reason and
 * kind go with its time. A row whose relay address changed starts over.
 */
const UPSERT = `
  INSERT INTO relay_health AS h (relay_key, relay, last_success_at, last_failure_at, last_failure_reason, last_failure_kind, latency_ms, last_latency_ms, successes, failures, recipient_refusals, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
  ON CONFLICT (relay_key) DO UPDATE SET
    successes = CASE WHEN h.relay = EXCLUDED.relay THEN h.successes + EXCLUDED.successes ELSE EXCLUDED.successes END,
    failures = CASE WHEN h.relay = EXCLUDED.relay THEN h.failures + EXCLUDED.failures ELSE EXCLUDED.failures END,
    recipient_refusals = CASE WHEN h.relay = EXCLUDED.relay THEN h.recipient_refusals + EXCLUDED.recipient_refusals ELSE EXCLUDED.recipient_refusals END,
    last_success_at = CASE WHEN h.relay = EXCLUDED.relay THEN GREATEST(h.last_success_at, EXCLUDED.last_success_at) ELSE EXCLUDED.last_success_at END,
    last_failure_reason = CASE WHEN h.relay <> EXCLUDED.relay OR h.last_failure_at IS NULL OR EXCLUDED.last_failure_at >= h.last_failure_at THEN EXCLUDED.last_failure_reason ELSE h.last_failure_reason END,
    last_failure_kind = CASE WHEN h.relay <> EXCLUDED.relay OR h.last_failure_at IS NULL OR EXCLUDED.last_failure_at >= h.last_failure_at THEN EXCLUDED.last_failure_kind ELSE h.last_failure_kind END,
    last_failure_at = CASE WHEN h.relay = EXCLUDED.relay THEN GREATEST(h.last_failure_at, EXCLUDED.last_failure_at) ELSE EXCLUDED.last_failure_at END,
    latency_ms = CASE WHEN h.relay = EXCLUDED.relay THEN COALESCE(EXCLUDED.latency_ms, h.latency_ms) ELSE EXCLUDED.latency_ms END,
    last_latency_ms = CASE WHEN h.relay = EXCLUDED.relay THEN COALESCE(EXCLUDED.last_latency_ms, h.last_latency_ms) ELSE EXCLUDED.last_latency_ms END,
    relay = EXCLUDED.relay,
    updated_at = now()`;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

function toView(row: HealthRow): RelayHealthView {
  const success = row.last_success_at ? new Date(row.last_success_at) : null;
  const failure = row.last_failure_at ? new Date(row.last_failure_at) : null;
  const status = failure && (!success || failure > success) ? 'failing' : success ? 'healthy' : 'unknown';
  return {
    status,
    lastSuccessAt: success?.toISOString() ?? null,
    lastFailureAt: failure?.toISOString() ?? null,
    lastFailureReason: row.last_failure_reason,
    lastFailureKind: row.last_failure_kind,
    latencyMs: row.latency_ms,
    lastLatencyMs: row.last_latency_ms,
    successes: Number(row.successes),
    failures: Number(row.failures),
    recipientRefusals: Number(row.recipient_refusals),
  };
}
