import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RulesService } from '../channels/rules.service.js';
import { formatMailbox } from '../common/address.js';
import { composeMail } from '../common/compose-mail.js';
import { Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { every } from '../common/every.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { newQueueId } from '../queue/queue-id.js';
import { QueueRepository } from '../queue/queue.repository.js';
import { QueueWriter } from '../queue/queue-writer.js';
import { SettingsService } from '../settings/settings.service.js';

/** Any constant shared by every instance: the advisory lock under which one of them raises or clears the alarm. */
const ALARM_LOCK = 0x71616765; // "qage"
const KIND = 'queue-age';

export interface QueueAgeState {
  raised: boolean;
  queueId?: string;
  minutes?: number;
  lastError?: string | null;
  at?: string;
}

/**
 * The queue-age alarm: when the oldest deferred message has waited longer than the setting
 * (queueAgeAlarmMinutes; 0 = off), a warning event (the dashboard's banner reads it) and one
 * notice to the channels of the `undelivered` rules; when no deferred message is that old any
 * more, an info event ends it. Its state is the latest of those events, read and written under
 * an advisory lock, so it fires once however many instances look and however often they restart.
 * The age itself is postroom_queue_oldest_age_seconds.
 */
@Injectable()
export class QueueAgeAlarm implements OnModuleInit, OnApplicationShutdown {
  private readonly log: Logger;
  private timer?: { stop(): Promise<void> };

  constructor(
    private readonly sql: Sql,
    private readonly repo: QueueRepository,
    private readonly writer: QueueWriter,
    private readonly events: EventLogService,
    private readonly settings: SettingsService,
    private readonly rules: RulesService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'queue-age-alarm' });
  }

  onModuleInit(): void {
    this.metrics.registerGauge({
      name: 'postroom_queue_oldest_age_seconds',
      help: 'How long the oldest deferred message has waited (0 when none is deferred; all instances)',
      read: async () => [{ value: Math.max(0, (await this.repo.oldestDeferred())?.age ?? 0) }],
    });
  }

  /** Looks every SELF_CHECK_SECONDS. */
  start(): void {
    if (this.timer) return;
    this.timer = every(this.config.selfCheckSeconds * 1000, () => this.check().catch((err: unknown) => this.log.error({ err }, 'queue-age alarm: check failed')));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.timer?.stop();
  }

  /** Raises or ends the alarm as the queue now says. */
  async check(): Promise<void> {
    const s = await this.settings.get();
    const oldest = await this.repo.oldestDeferred();
    const over = s.queueAgeAlarmMinutes > 0 && oldest !== undefined && oldest.age >= s.queueAgeAlarmMinutes * 60;
    await this.sql.transaction(async (tx) => {
      await this.sql.rows(`SELECT pg_advisory_xact_lock($1)`, [ALARM_LOCK], tx);
      const raised = (await this.state()).raised;
      if (over && !raised) {
        const minutes = Math.floor(oldest.age / 60);
        const channels = await this.rules.undeliveredChannels();
        const message = `Mail is not getting through: message ${oldest.id} (${oldest.subject || 'no subject'}) has waited ${minutes} min${oldest.last_error ? `; last error: ${oldest.last_error}` : ''}`;
        await this.events.record({ level: 'warning', source: 'delivery', message, details: { kind: KIND, state: 'raised', queueId: oldest.id, minutes, lastError: oldest.last_error, channels } }, tx);
        if (channels.length) await this.writer.enqueueIn(tx, await this.notice(channels, message, oldest.id));
      } else if (!over && raised) {
        await this.events.record({ level: 'info', source: 'delivery', message: 'Mail is getting through again: no deferred message is past the queue-age alarm', details: { kind: KIND, state: 'cleared' } }, tx);
      }
    });
  }

  /** Whether the alarm is on (any instance raised it and none ended it), for the dashboard's banner. */
  async state(): Promise<QueueAgeState> {
    const [latest] = (await this.events.list({ kind: KIND, limit: 1 })).items;
    const d = latest?.details ?? {};
    if (d.state !== 'raised') return { raised: false };
    return { raised: true, queueId: String(d.queueId ?? ''), minutes: Number(d.minutes ?? 0), lastError: typeof d.lastError === 'string' ? d.lastError : null, at: latest!.at };
  }

  /** The alarm as a message to the channels: Postroom's own (notice 'alarm'), routed by no rule. */
  private async notice(recipients: string[], text: string, queueId: string) {
    const s = await this.settings.get();
    const host = await this.settings.heloName();
    const sender = s.fromAddress || `postroom@${host}`;
    const subject = `Postroom on ${host}: mail is not getting through`;
    const messageId = `<${randomUUID()}@${host}>`;
    const data = await composeMail({
      from: formatMailbox(s.fromName, sender),
      subject,
      text: `${text}.\n\nThe relays, the queue and the event log are on the dashboard. This alarm is sent once; it ends when no deferred message is that old any more.\n`,
      messageId,
      headers: { 'X-Postroom-Severity': 'critical', 'X-Postroom-Alarm': `queue-age ${queueId}` },
    });
    return { id: newQueueId(), sender, recipients, subject, messageId, clientAddress: null, data, notice: 'alarm' as const };
  }
}
