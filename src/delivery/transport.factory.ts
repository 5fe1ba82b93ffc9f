import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import { resolveMailName } from '../config/mail-name.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { RelayHealthService } from '../relays/relay-health.service.js';
import { unreadableReason } from '../relays/relay-secrets.js';
import { RELAYS_CHANNEL } from '../relays/relays-channel.js';
import { RelaysService } from '../relays/relays.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { DirectTransport, MxResolver } from './direct-transport.js';
import { FailoverTransport } from './failover-transport.js';
import { OAuthTokenService } from './oauth/oauth-token.service.js';
import { RelayTransport } from './relay-transport.js';
import { SmtpThreadHost } from './smtp-thread.js';
import { connectionSettings, relayOptions } from './transport-options.js';
import { MailTransport } from './transport.js';
import { UnusableTransport } from './unusable-transport.js';

export const MX_RESOLVER = Symbol('MX_RESOLVER');

/**
 * Holds the transport the settings and the relays describe (options from transport-options.ts);
 * a change of either builds a new one.
 * No relay at all: direct delivery to MX. Otherwise a FailoverTransport over one RelayTransport
 * per relay in priority order (with a single relay it is that relay, plus health records); a
 * relay whose stored secret does not open with this SECRET_KEY gets an UnusableTransport.
 * Relay pools run on the delivery thread of SmtpThreadHost, which starts at the first send.
 */
@Injectable()
export class TransportFactory implements OnModuleInit, OnApplicationShutdown {
  private current?: Promise<MailTransport>;
  /** Transports replaced by a change, finishing their sends before they are closed. */
  private readonly retired = new Set<MailTransport>();

  constructor(
    private readonly settings: SettingsService,
    private readonly relays: RelaysService,
    private readonly health: RelayHealthService,
    private readonly oauth: OAuthTokenService,
    private readonly threads: SmtpThreadHost,
    notifier: PgNotifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MX_RESOLVER) private readonly resolver: MxResolver,
  ) {
    notifier.on('postroom_settings', () => this.reset());
    notifier.on(RELAYS_CHANNEL, () => this.reset());
  }

  get(): Promise<MailTransport> {
    this.current ??= this.build();
    this.current.catch(() => (this.current = undefined));
    return this.current;
  }

  private async build(): Promise<MailTransport> {
    const settings = connectionSettings(await this.settings.get());
    const relays = await this.relays.deliveryRelays();
    if (relays.length === 0) return new DirectTransport(this.resolver, { ...settings, port: this.config.directPort });
    return new FailoverTransport(
      relays.map((r) => ({
        key: r.key,
        transport: r.unusable ? new UnusableTransport(`${r.host}:${r.port}`, unreadableReason(r.unusable)) : new RelayTransport(relayOptions(r, settings, this.oauth), this.threads),
      })),
      { health: this.health, retryAfterMs: this.config.relayRetrySeconds * 1000 },
    );
  }

  private reset(): void {
    const old = this.current;
    this.current = undefined;
    // In-flight sends finish on the old pool; closing it only stops idle connections (QUIT).
    void old
      ?.then((t) => {
        this.retired.add(t);
        setTimeout(() => this.retire(t), 30_000).unref();
      })
      .catch(() => undefined);
  }

  private retire(t: MailTransport): void {
    if (this.retired.delete(t)) t.close();
  }

  /** The EHLO name's look-up (bounded) is done with the application, not at the first message. */
  async onModuleInit(): Promise<void> {
    await resolveMailName();
  }

  /**
   * After the worker's in-flight deliveries (its beforeApplicationShutdown): the current
   * transport and those a change replaced less than 30 s ago close their connections with
   * QUIT, then the delivery thread ends if it runs (its pools QUIT too).
   */
  async onApplicationShutdown(): Promise<void> {
    for (const t of [...this.retired]) this.retire(t);
    await this.current?.then((t) => t.close()).catch(() => undefined);
    await this.threads.end();
  }
}
