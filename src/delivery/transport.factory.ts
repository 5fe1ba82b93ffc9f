import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { RelayHealthService } from '../relays/relay-health.service.js';
import { RELAYS_CHANNEL, RelaysService } from '../relays/relays.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { DirectTransport, MxResolver, systemResolver } from './direct-transport.js';
import { FailoverTransport } from './failover-transport.js';
import { OAuthTokenService } from './oauth/oauth-token.service.js';
import { RelayTransport } from './relay-transport.js';
import { SmtpThread } from './smtp-thread.js';
import { MailTransport } from './transport.js';
import { UnusableTransport } from './unusable-transport.js';

export const MX_RESOLVER = Symbol('MX_RESOLVER');

/**
 * Holds the transport the settings and the relays describe; a change of either builds a new one.
 * No relay at all: direct delivery to MX. Otherwise a FailoverTransport over one RelayTransport
 * per relay in priority order (with a single relay it is that relay, plus health records); a
 * relay whose stored secret does not open with this SECRET_KEY gets an UnusableTransport.
 */
@Injectable()
export class TransportFactory implements OnModuleInit, OnApplicationShutdown {
  private current?: Promise<MailTransport>;

  constructor(
    private readonly settings: SettingsService,
    private readonly relays: RelaysService,
    private readonly health: RelayHealthService,
    private readonly oauth: OAuthTokenService,
    notifier: PgNotifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(MX_RESOLVER) private readonly resolver: MxResolver = systemResolver,
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
    const s = await this.settings.get();
    const heloName = await this.settings.heloName();
    const relays = await this.relays.deliveryRelays();
    if (relays.length === 0) return new DirectTransport(this.resolver, { heloName, timeoutSeconds: s.timeoutSeconds, port: this.config.directPort });
    return new FailoverTransport(
      relays.map((r) => ({
        key: r.key,
        transport: r.unusable ? new UnusableTransport(`${r.host}:${r.port}`, r.unusable) : new RelayTransport({
          host: r.host,
          port: r.port,
          security: r.security,
          tlsVerify: r.tlsVerify,
          auth: r.auth,
          ...(r.oauth ? { oauth: { user: r.oauth.user, tokens: this.oauth } } : {}),
          heloName,
          timeoutSeconds: s.timeoutSeconds,
          poolSize: s.poolSize,
        }),
      })),
      { health: this.health, retryAfterMs: this.config.relayRetrySeconds * 1000 },
    );
  }

  private reset(): void {
    const old = this.current;
    this.current = undefined;
    // In-flight sends finish on the old pool; closing it only stops idle connections.
    void old?.then((t) => setTimeout(() => t.close(), 30_000).unref()).catch(() => undefined);
  }

  /** The delivery thread starts with the application, not with the first message. */
  onModuleInit(): void {
    SmtpThread.shared();
  }

  /** After the worker's in-flight deliveries (its beforeApplicationShutdown): idle connections QUIT, the thread ends. */
  async onApplicationShutdown(): Promise<void> {
    await this.current?.then((t) => t.close()).catch(() => undefined);
    await SmtpThread.endShared();
  }
}
