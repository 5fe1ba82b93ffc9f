import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import { every } from '../common/every.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { DeliveryRelay } from '../relays/delivery-relay.js';
import { unreadableReason } from '../relays/relay-secrets.js';
import { RelayHealthService } from '../relays/relay-health.service.js';
import { RelaysService } from '../relays/relays.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { DeadMansSwitch } from './dead-mans-switch.js';
import { OAuthTokenService } from './oauth/oauth-token.service.js';
import { OAuthError } from './oauth/token-endpoint.js';
import { failureKind, replyText } from './outcome.js';
import { poolAuth } from './pool-login.js';
import { poolLogin } from './relay-transport.js';
import { loginOnce } from './smtp-session.js';
import { connectionSettings, relayConnectionOptions, relayOptions } from './transport-options.js';
import type { TransportError } from './transport.js';

/**
 * The mail path checking itself: every `probeMinutes` (a setting; 0 = off) each enabled relay
 * is connected to and logged in to as delivery would (EHLO, STARTTLS, AUTH, or XOAUTH2 with a
 * token asked for anew), then QUIT — no message. The outcome feeds the relay's health (and so
 * its events and the dashboard), a counter, and the dead man's switch; a broken password or an
 * expired OAuth2 grant is then seen before the next alert needs the relay.
 */
@Injectable()
export class RelayProbe implements OnApplicationShutdown {
  private readonly counter: Counter<'relay' | 'result'>;
  private readonly log: Logger;
  private lastRun = 0;
  private timer?: { stop(): Promise<void> };
  private stopped = false;

  constructor(
    private readonly settings: SettingsService,
    private readonly relays: RelaysService,
    private readonly health: RelayHealthService,
    private readonly oauth: OAuthTokenService,
    private readonly heartbeat: DeadMansSwitch,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsService,
    notifier: PgNotifier,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'relay-probe' });
    // A changed relay or setting (a password typed again) is probed at the next look, not minutes later.
    for (const channel of ['postroom_relays', 'postroom_settings'] as const) notifier.on(channel, () => (this.lastRun = 0));
    this.counter = new Counter({
      name: 'postroom_relay_probes_total',
      help: 'Relay probes (connect, log in, QUIT; no message) by result, this instance',
      labelNames: ['relay', 'result'],
      registers: [metrics.registry],
    });
  }

  /** Looks every SELF_CHECK_SECONDS whether a probe round is due. */
  start(): void {
    if (this.timer) return;
    this.timer = every(this.config.selfCheckSeconds * 1000, () => this.tick().catch((err: unknown) => this.log.error({ err }, 'relay probe: round failed')));
  }

  private async tick(now = Date.now()): Promise<void> {
    const minutes = (await this.settings.get()).probeMinutes;
    if (!minutes || now - this.lastRun < minutes * 60_000) return;
    this.lastRun = now;
    await this.probeAll();
  }

  /** One round: every enabled relay, one after the other. */
  async probeAll(): Promise<{ relay: string; ok: boolean; reply: string }[]> {
    const s = await this.settings.get();
    const connection = { ...connectionSettings(s), poolSize: 1 };
    const results: { relay: string; ok: boolean; reply: string }[] = [];
    for (const relay of await this.relays.deliveryRelays()) {
      if (this.stopped) break;
      results.push(await this.probe(relay, connection));
    }
    return results;
  }

  private async probe(relay: DeliveryRelay, connection: ReturnType<typeof connectionSettings>): Promise<{ relay: string; ok: boolean; reply: string }> {
    const where = `${relay.host}:${relay.port}`;
    const started = Date.now();
    try {
      if (relay.unusable) throw Object.assign(new Error(unreadableReason(relay.unusable)), { code: 'EAUTH' });
      // A fresh token each round: the probe is what finds an expired grant before an alert does.
      const options = relayOptions(relay, connection, relay.oauth ? { token: () => this.oauth.token(true) } : undefined);
      const auth = poolAuth(poolLogin(options), (renew) => this.oauth.token(renew));
      await loginOnce({ connection: relayConnectionOptions(options), auth });
      this.health.succeeded(relay.key, where, Date.now() - started);
      this.counter.inc({ relay: where, result: 'ok' });
      this.heartbeat.worked();
      return { relay: where, ok: true, reply: 'logged in' };
    } catch (err) {
      // The token service writes its own event about a failing token request.
      const e: TransportError = err instanceof OAuthError ? Object.assign(new Error(`OAuth2 token request failed: ${err.reply}`), { code: 'EOAUTH2', announced: true }) : (err as TransportError);
      const reply = `probe: ${replyText(e)}`;
      this.health.failed(relay.key, where, failureKind(e), reply, !e.announced);
      this.counter.inc({ relay: where, result: 'failed' });
      this.log.warn({ relay: where, reply }, 'relay probe failed');
      return { relay: where, ok: false, reply };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.timer?.stop();
  }
}
