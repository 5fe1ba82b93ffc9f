import { Inject, Injectable, BeforeApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { ClaimedMessage, QueueRepository } from '../queue/queue.repository.js';
import { SettingsService } from '../settings/settings.service.js';
import { AttemptOutcome, alignRecipients, outcomeOfError, outcomeOfResult } from './outcome.js';
import { OutcomeRecorder } from './outcome.recorder.js';
import { TransportFactory } from './transport.factory.js';
import { TransportError } from './transport.js';

const IDLE_POLL_MS = 5_000;
const SHUTDOWN_GRACE_MS = 20_000;
const FAILURE_EVENT_INTERVAL_MS = 60_000;

/**
 * Claims due messages in batches and delivers them, up to the pool size at once. It wakes at
 * once on new mail (in-process signal or NOTIFY from another instance), otherwise when the
 * next deferred message is due.
 */
@Injectable()
export class DeliveryWorker implements BeforeApplicationShutdown {
  readonly owner: string;
  private readonly log: Logger;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private wakeRequested = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lastFailureEvent = new Map<string, { at: number; suppressed: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly repo: QueueRepository,
    private readonly settings: SettingsService,
    private readonly transports: TransportFactory,
    private readonly recorder: OutcomeRecorder,
    private readonly events: EventLogService,
    notifier: PgNotifier,
  ) {
    this.owner = `${config.instanceName}:${randomBytes(3).toString('hex')}`;
    this.log = root.child({ module: 'delivery' });
    notifier.on('postroom_wakeup', () => this.poke());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  poke(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const settings = await this.settings.get();
        const free = settings.poolSize - this.inFlight.size;
        this.wakeRequested = false;
        if (free > 0) {
          const claimed = await this.repo.claim(this.owner, free, this.config.leaseSeconds);
          for (const message of claimed) this.track(this.deliver(message, settings.lifetimeHours));
          if (claimed.length === free) continue; // there may be more: claim again once a slot frees
        }
        await this.sleep(await this.idleDelay());
      } catch (err) {
        this.log.error({ err }, 'delivery loop error; retrying shortly');
        await this.sleep(1000);
      }
    }
  }

  private async idleDelay(): Promise<number> {
    if (this.wakeRequested) return 0;
    const s = await this.repo.secondsUntilNextDue().catch(() => null);
    if (s === null) return IDLE_POLL_MS;
    return Math.max(0, Math.min(IDLE_POLL_MS, Math.ceil(s * 1000)));
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => {
      this.inFlight.delete(p);
      this.poke();
    });
  }

  private async deliver(message: ClaimedMessage, lifetimeHours: number): Promise<void> {
    const log = this.log.child({ queueId: message.id });
    let outcome: AttemptOutcome;
    try {
      const transport = await this.transports.get();
      const result = await transport.send({ from: message.sender, to: message.recipients }, message.data);
      outcome = alignRecipients(outcomeOfResult(result), message.recipients);
    } catch (err) {
      outcome = outcomeOfError(err as TransportError, message.recipients);
      if (outcome.failure) await this.raiseFailure(outcome, message.id);
    }
    for (const r of outcome.recipients) log.info({ rcpt: r.recipient, status: r.status, relay: outcome.relay, reply: r.reply }, `delivery ${r.status}`);
    try {
      await this.recorder.record(message, this.owner, outcome, lifetimeHours);
    } catch (err) {
      // The lease expires and the message is tried again: at-least-once.
      log.error({ err }, 'could not record the delivery outcome; the message will be retried after its lease');
    }
  }

  /** Relay-level failures go to the event log, at most once a minute per kind and relay. */
  private async raiseFailure(outcome: AttemptOutcome, queueId: string): Promise<void> {
    const f = outcome.failure!;
    if (f.kind === 'rejected') return;
    const key = `${f.kind}|${outcome.relay ?? ''}`;
    const now = Date.now();
    const last = this.lastFailureEvent.get(key);
    if (last && now - last.at < FAILURE_EVENT_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.lastFailureEvent.set(key, { at: now, suppressed: 0 });
    const what = { connection: 'connection failed', timeout: 'timed out', tls: 'TLS failed', auth: 'authentication failed', dns: 'DNS lookup failed', protocol: 'protocol error', rejected: 'rejected' }[f.kind];
    await this.events.recordSafely({
      level: 'error',
      source: 'delivery',
      message: `Relay ${outcome.relay ?? ''} ${what}: ${f.reply}`,
      details: { kind: f.kind, relay: outcome.relay, reply: f.reply, queueId, similarSinceLastEvent: last?.suppressed ?? 0 },
    });
  }

  /** Stop claiming, let in-flight deliveries finish for a while, give back what is left. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    const released = await this.repo.releaseLeases(this.owner).catch(() => 0);
    if (released) this.log.info({ released }, 'released leases at shutdown');
  }
}
