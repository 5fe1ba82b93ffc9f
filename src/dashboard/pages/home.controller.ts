import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { AppConfig } from '../../config/config.schema.js';
import { OAuthTokenService } from '../../delivery/oauth/oauth-token.service.js';
import { ChannelsService } from '../../channels/channels.service.js';
import { QueueAgeAlarm } from '../../delivery/queue-age-alarm.js';
import { RelayAlarms } from '../../delivery/relay-alarms.js';
import { heloNameOf } from '../../settings/settings.service.js';
import { mailNameWarning } from '../../config/mail-name.js';
import { EventLogService } from '../../events/event-log.service.js';
import { LocalMailService } from '../../intake/local-mail.service.js';
import { MailLogService } from '../../mail-log/mail-log.service.js';
import { QueueService } from '../../queue/queue.service.js';
import { RelaysService } from '../../relays/relays.service.js';
import { SettingsService } from '../../settings/settings.service.js';
import { renderView } from '../../web/htmx.js';
import { localDay } from '../../web/local-time.js';
import { HEALTH_BADGES, SECURITY_LABELS } from './relay-labels.js';


/** The SMTP Dashboard home: status, counters, and the latest queue, mail log and events. */
@Controller()
export class HomeController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: QueueService,
    private readonly mailLog: MailLogService,
    private readonly events: EventLogService,
    private readonly settings: SettingsService,
    private readonly relays: RelaysService,
    private readonly oauth: OAuthTokenService,
    private readonly localMail: LocalMailService,
    private readonly alarms: RelayAlarms,
    private readonly queueAge: QueueAgeAlarm,
    private readonly channels: ChannelsService,
  ) {}

  @Get()
  async home(@Req() req: Request, @Res() res: Response): Promise<void> {
    const [status, latestQueue, latestLog, latestEvents, policyRefusals, queueAge, settings] = await Promise.all([
      this.status(),
      this.queue.list({ limit: 5 }),
      this.mailLog.list({ limit: 5 }),
      this.events.list({ limit: 5 }),
      this.alarms.recent().catch(() => []),
      this.queueAge.state().catch(() => ({ raised: false })),
      this.settings.get(),
    ]);
    renderView(req, res, 'pages/home', 'fragments/home/status', {
      title: 'SMTP Dashboard',
      nav: 'home',
      timeZone: appTimeZone(),
      ...status,
      // A relay refusing on policy grounds (5.7.x, 530, the EHLO name): Postroom's configuration, mail deferred.
      policyRefusals,
      // The oldest deferred message has waited past the queue-age alarm (any instance raised it).
      queueAge: queueAge.raised ? queueAge : undefined,
      mailNameWarning: mailNameWarning(heloNameOf(settings), settings.hostname !== ''),
      queue: latestQueue.items,
      mailLog: latestLog.items,
      events: latestEvents.items,
    });
  }

  /** The live part of the home page (polled every few seconds while the tab is visible). */
  @Get('dashboard/status')
  async statusFragment(@Res() res: Response): Promise<void> {
    res.vary('HX-Request');
    res.render('fragments/home/status', { ...(await this.status()), layout: false });
  }

  private async status() {
    const tz = appTimeZone();
    const [s, counts, sentToday, failedToday, last, relays, waiting, channels] = await Promise.all([
      this.settings.view(),
      this.queue.counts(),
      this.mailLog.countToday('sent', tz),
      this.mailLog.countToday('bounced', tz),
      this.mailLog.lastOutcome(),
      this.relays.list(),
      this.localMail.waiting(),
      this.channels.list(),
    ]);
    const today = localDay(tz, 0);
    return {
      today: { since: today.since, until: today.until },
      relay: s.relayHost ? `${s.relayHost}:${s.effectivePort} (${SECURITY_LABELS[s.security]})` : null,
      relays: relays.map((r) => ({ ...r, badge: HEALTH_BADGES[r.health.status] })),
      channels: channels.map((c) => ({ ...c, badge: HEALTH_BADGES[c.health.status] })),
      backupRelaysOnly: !s.relayHost && relays.some((r) => r.enabled),
      // Until the next successful token: the primary relay's OAuth2 login is failing.
      oauthWarning: s.authEnabled && s.authMethod === 'oauth2' ? this.oauth.status() : undefined,
      listener: `${this.config.smtp.host}:${this.config.smtp.port}`,
      // Mail for root & co. with nowhere to go: held until an admin address is set.
      localWaiting: waiting.count ? { count: waiting.count, names: waiting.names.join(', ') } : undefined,
      last,
      counters: { inQueue: counts.queued + counts.sending + counts.deferred + counts.hold, queued: counts.queued + counts.sending, deferred: counts.deferred, held: counts.hold, sentToday, failedToday },
    };
  }
}
