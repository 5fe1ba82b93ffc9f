import { Inject, Injectable, BeforeApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageData } from '../common/message-data.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import type { Dispatcher } from '../queue/dispatcher.js';
import { HOLD_PRESENCE } from '../queue/presence.js';
import { ClaimedMessage, QueueRepository } from '../queue/queue.repository.js';
import { STREAMED_BODY_BYTES } from '../common/message-data.js';
import { QueueWriter } from '../queue/queue-writer.js';
import { SettingsService, heloNameOf } from '../settings/settings.service.js';
import { isChannelRecipient } from '../common/channel-recipient.js';
import { ChannelDelivery } from './channel-delivery.js';
import { DeadMansSwitch } from './dead-mans-switch.js';
import { AttemptOutcome, alignRecipients, outcomeOfError, outcomeOfResult } from './outcome.js';
import { OutcomeRecorder } from './outcome.recorder.js';
import { RelayAlarms } from './relay-alarms.js';
import { TransportFactory } from './transport.factory.js';
import { TransportError } from './transport.js';

const IDLE_POLL_MS = 5_000;
const SHUTDOWN_GRACE_MS = 20_000;
const FAILURE_EVENT_INTERVAL_MS = 60_000;
/** Messages held at once (waiting, being sent, being recorded), per connection of the pool. */
const HELD_PER_CONNECTION = 4;

/** A message leased to this worker, and when its lease (as we count it) began. */
interface Leased {
  message: ClaimedMessage;
  since: number;
}

/**
 * Delivers through up to `poolSize` connections at once, from a short line of messages leased
 * to it. New mail arrives in that line straight from intake (Dispatcher: committed already
 * claimed, no claim round trip); the rest — retries, flushed and released messages, overflow,
 * other instances' mail, expired leases — is claimed from the queue in batches whenever the
 * line runs short and the queue may hold due messages: after a NOTIFY or a local wake-up, a
 * full claim, or the time the next deferred message is due.
 */
@Injectable()
export class DeliveryWorker implements Dispatcher, BeforeApplicationShutdown {
  readonly owner: string;
  readonly leaseSeconds: number;
  private readonly log: Logger;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** The queue may hold due messages we have not claimed. */
  private dueInQueue = true;
  private readonly line: Leased[] = [];
  private sending = 0;
  private recording = 0;
  private reserved = 0;
  private poolSize = 1;
  private lifetimeHours = 120;
  private timeoutMs = 30_000;
  private hostname = '';
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lastFailureEvent = new Map<string, { at: number; suppressed: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly repo: QueueRepository,
    private readonly writer: QueueWriter,
    private readonly settings: SettingsService,
    private readonly transports: TransportFactory,
    private readonly recorder: OutcomeRecorder,
    private readonly events: EventLogService,
    notifier: PgNotifier,
    private readonly alarms: RelayAlarms,
    private readonly channels: ChannelDelivery,
    private readonly heartbeat: DeadMansSwitch,
  ) {
    this.owner = `${config.instanceName}:${randomBytes(3).toString('hex')}`;
    this.leaseSeconds = config.leaseSeconds;
    this.log = root.child({ module: 'delivery' });
    notifier.on('postroom_wakeup', () => this.poke());
    // While this connection lives, our leases are ours; when it ends (we died), others take them back at once.
    notifier.keepOnSession(HOLD_PRESENCE, [this.owner]);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.writer.attachDispatcher(this);
    this.loop = this.run();
  }

  /** Something may be due in the queue (new mail elsewhere, a flush, a release): claim soon. */
  poke(): void {
    this.dueInQueue = true;
    this.wake?.();
  }

  // Dispatcher: new messages straight from intake.

  reserve(n: number): number {
    if (!this.running) return 0;
    const k = Math.max(0, Math.min(n, this.room()));
    this.reserved += k;
    return k;
  }

  take(messages: ClaimedMessage[]): void {
    this.reserved -= messages.length;
    const since = Date.now();
    for (const message of messages) {
      // A big body is kept only when a connection can take it now; otherwise it is read back
      // when its turn comes, so a line of big messages does not fill the memory.
      const wait = this.sending + this.line.length >= this.poolSize;
      this.line.push({ message: wait && message.size > STREAMED_BODY_BYTES ? { ...message, data: null } : message, since });
    }
    this.pump();
  }

  cancel(n: number): void {
    this.reserved -= n;
  }

  /** How many more messages this worker may hold: waiting, being sent, being recorded or promised. */
  private room(): number {
    return this.poolSize * HELD_PER_CONNECTION - (this.line.length + this.sending + this.recording + this.reserved);
  }

  /** Claims from the queue only when the line would soon leave a connection idle. */
  private wantsMore(): boolean {
    return this.line.length < this.poolSize && this.room() > 0;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const s = await this.settings.get();
        this.poolSize = s.poolSize;
        this.lifetimeHours = s.lifetimeHours;
        this.timeoutMs = s.timeoutSeconds * 1000;
        this.hostname = heloNameOf(s);
        if (this.dueInQueue && this.wantsMore()) {
          this.dueInQueue = false; // a poke while claiming sets it again
          const room = this.room();
          const claimed = await this.repo.claim(this.owner, room, this.leaseSeconds);
          if (claimed.length === room) this.dueInQueue = true; // there may be more
          const since = Date.now();
          for (const message of claimed) this.line.push({ message, since });
          this.pump();
          continue;
        }
        await this.sleep(this.dueInQueue ? IDLE_POLL_MS : await this.untilNextDue());
      } catch (err) {
        this.dueInQueue = true;
        this.log.error({ err }, 'delivery loop error; retrying shortly');
        await this.sleep(1000);
      }
    }
  }

  /** How long until the next deferred message is due (at most the idle poll, which also finds expired leases). */
  private async untilNextDue(): Promise<number> {
    const s = await this.repo.secondsUntilNextDue().catch(() => null);
    if (this.dueInQueue) return 0; // poked meanwhile
    return s === null ? IDLE_POLL_MS : Math.max(0, Math.min(IDLE_POLL_MS, Math.ceil(s * 1000)));
  }

  /** Sleeps; wakes early on a poke or when a connection frees while the queue may hold due mail. Either way, the queue is looked at next. */
  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.dueInQueue = true;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Starts sends while connections are free and the line holds messages. */
  private pump(): void {
    while (this.running && this.sending < this.poolSize && this.line.length > 0) {
      const next = this.line.shift()!;
      // Our lease may be close to its end after a long wait in line (a slow relay): leave the
      // message to be claimed again rather than send it under a lease that may run out.
      const margin = Math.min(3 * this.timeoutMs, this.leaseSeconds * 500);
      if (Date.now() - next.since > this.leaseSeconds * 1000 - margin) continue;
      this.sending++;
      this.track(this.deliver(next.message));
    }
    if (this.dueInQueue && this.wantsMore()) this.wake?.();
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(message: ClaimedMessage): Promise<void> {
    let sent: { outcome: AttemptOutcome; data: MessageData } | undefined;
    try {
      // A big body is read only now, when a connection is free for it (see STREAMED_BODY_BYTES).
      const data = message.data ?? (await this.repo.loadBody(message.id, message.size));
      sent = { outcome: await this.attempt(message, data), data };
    } catch (err) {
      // Not even tried (the body could not be read): the lease runs out and it is tried again.
      this.log.error({ err, queueId: message.id }, 'could not start the delivery; the message will be retried after its lease');
    } finally {
      this.sending--;
      if (sent) this.recording++;
      this.pump();
    }
    if (!sent) return;
    try {
      await this.recorder.record({ ...message, data: sent.data }, this.owner, sent.outcome, this.lifetimeHours);
    } catch (err) {
      // The lease expires and the message is tried again: at-least-once.
      this.log.error({ err, queueId: message.id }, 'could not record the delivery outcome; the message will be retried after its lease');
    } finally {
      this.recording--;
      this.pump();
    }
  }

  /** Mail recipients through the transport, channel recipients to their channels, side by side; one outcome for both. */
  private async attempt(message: ClaimedMessage, data: MessageData): Promise<AttemptOutcome> {
    const channels = message.recipients.filter(isChannelRecipient);
    const mail = channels.length ? message.recipients.filter((r) => !isChannelRecipient(r)) : message.recipients;
    const [outcome, posted] = await Promise.all([
      mail.length ? this.attemptMail(message, mail, data) : Promise.resolve<AttemptOutcome>({ recipients: [], relay: null }),
      channels.length ? this.channels.send(message, data, channels, this.hostname, this.timeoutMs) : [],
    ]);
    outcome.recipients.push(...posted);
    if (outcome.recipients.some((r) => r.status === 'sent')) this.heartbeat.worked();
    for (const r of outcome.recipients) {
      this.log.info({ queueId: message.id, rcpt: r.recipient, status: r.status, relay: r.relay ?? outcome.relay, reply: r.reply }, `delivery ${r.status}`);
    }
    return outcome;
  }

  private async attemptMail(message: ClaimedMessage, recipients: string[], data: MessageData): Promise<AttemptOutcome> {
    let outcome: AttemptOutcome;
    try {
      const transport = await this.transports.get();
      const result = await transport.send({ from: message.sender, to: recipients }, data);
      outcome = alignRecipients(outcomeOfResult(result), recipients);
    } catch (err) {
      outcome = outcomeOfError(err as TransportError, recipients);
      if (outcome.failure && !(err as TransportError).announced) await this.raiseFailure(outcome, message.id);
    }
    // Deferred rather than bounced: without the alarm nobody would hear of it before the lifetime ends.
    if (outcome.policy) await this.alarms.policyRefused(outcome.relay, outcome.policy.reply, message.id);
    return outcome;
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

  /** Stop claiming and taking, let in-flight deliveries finish for a while, give back what is left. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    // Intake commits that promised us messages land first, so their leases are given back too.
    while (this.reserved > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    this.line.length = 0; // still leased to us: releaseLeases below gives them back
    const grace = new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    const released = await this.repo.releaseLeases(this.owner).catch(() => 0);
    if (released) this.log.info({ released }, 'released leases at shutdown');
  }
}
