import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { SettingsService } from '../settings/settings.service.js';
import { effectivePort } from '../settings/settings.view.js';
import { DirectTransport, MxResolver, systemResolver } from './direct-transport.js';
import { RelayTransport } from './relay-transport.js';
import { MailTransport } from './transport.js';

export const MX_RESOLVER = Symbol('MX_RESOLVER');

/** Holds the transport the settings describe; a settings change builds a new one. */
@Injectable()
export class TransportFactory implements OnApplicationShutdown {
  private current?: Promise<MailTransport>;

  constructor(
    private readonly settings: SettingsService,
    notifier: PgNotifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(MX_RESOLVER) private readonly resolver: MxResolver = systemResolver,
  ) {
    notifier.on('postroom_settings', () => this.reset());
  }

  get(): Promise<MailTransport> {
    this.current ??= this.build();
    this.current.catch(() => (this.current = undefined));
    return this.current;
  }

  private async build(): Promise<MailTransport> {
    const s = await this.settings.get();
    const heloName = await this.settings.heloName();
    if (!s.relayHost) return new DirectTransport(this.resolver, { heloName, timeoutSeconds: s.timeoutSeconds, port: this.config.directPort });
    const pass = s.authEnabled ? await this.settings.password() : undefined;
    return new RelayTransport({
      host: s.relayHost,
      port: effectivePort(s),
      security: s.security,
      tlsVerify: s.tlsVerify,
      auth: s.authEnabled && pass !== undefined ? { user: s.username, pass } : undefined,
      heloName,
      timeoutSeconds: s.timeoutSeconds,
      poolSize: s.poolSize,
    });
  }

  private reset(): void {
    const old = this.current;
    this.current = undefined;
    // In-flight sends finish on the old pool; closing it only stops idle connections.
    void old?.then((t) => setTimeout(() => t.close(), 30_000).unref()).catch(() => undefined);
  }

  onApplicationShutdown(): void {
    void this.current?.then((t) => t.close()).catch(() => undefined);
  }
}
