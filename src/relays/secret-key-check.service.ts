import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SECRET_NAMES, type SecretField } from '../settings/secret-fields.js';
import { SettingsService } from '../settings/settings.service.js';
import { RELAYS_CHANNEL, RelaysService, SealedRelay } from './relays.service.js';

const settingsName = (field: SecretField): string => `settings ${field === 'password' ? '' : 'OAuth '}${SECRET_NAMES[field]}`;
const relayName = (r: SealedRelay): string => `relay ${r.id} (${r.relay}) password`;

/**
 * Opens every stored relay secret once at start-up (after the migrations: the hooks run when
 * the application starts listening), in one transaction:
 * - a secret that only the legacy key opens (a passphrase's SHA-256, before scrypt) is sealed
 *   again under the current key, with an info event;
 * - one that no key opens (SECRET_KEY changed) is named in a warning, never its value. Nothing
 *   else stops: delivery skips the relay or the login that needs it.
 */
@Injectable()
export class SecretKeyCheck implements OnApplicationBootstrap {
  private readonly log: Logger;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly settings: SettingsService,
    private readonly relays: RelaysService,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'secrets' });
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.run();
    } catch (err) {
      // The check only reports and upgrades: Postroom starts without it.
      this.log.error({ err }, 'could not check the stored secrets');
    }
  }

  async run(): Promise<void> {
    const resealed = await this.db.transaction(async (tx) => {
      const s = await this.settings.checkSealed(tx);
      const r = await this.relays.checkSealed(tx);
      const resealed = [...s.resealed.map(settingsName), ...r.resealed.map(relayName)];
      const unreadable = [...s.unreadable.map(settingsName), ...r.unreadable.map(relayName)];
      if (resealed.length) {
        await this.events.record(
          {
            level: 'info',
            source: 'settings',
            message: `${resealed.length} stored secrets re-sealed under the scrypt key of the SECRET_KEY passphrase (they were sealed under its SHA-256 hash): ${resealed.join(', ')}`,
            details: { resealed },
          },
          tx,
        );
        await tx.query(`SELECT pg_notify('postroom_settings', ''), pg_notify('${RELAYS_CHANNEL}', '')`);
      }
      if (unreadable.length) {
        await this.events.record(
          {
            level: 'warning',
            source: 'settings',
            message: `Stored secrets cannot be decrypted with this SECRET_KEY: ${unreadable.join(', ')}. Enter them again; until then delivery skips the relay or login that needs them`,
            details: { unreadable },
          },
          tx,
        );
      }
      return resealed.length > 0;
    });
    if (!resealed) return;
    // After COMMIT: this instance's cached settings and transport pick up the new values.
    this.notifier.notifyLocal('postroom_settings', 'local');
    this.notifier.notifyLocal(RELAYS_CHANNEL, 'local');
  }
}
