import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { PgNotifier } from '../database/pg-notifier.js';
import { sqlOf } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { PRIMARY_KEY } from './relay-address.js';
import { SECRET_NAMES } from './relay-secrets.js';
import { RELAYS_CHANNEL } from './relays-channel.js';
import { RelaysService, SealedSecret } from './relays.service.js';

/** How the event names a stored secret: the primary's as the settings' (where the operator enters them), a backup's by its relay. */
const secretName = (s: SealedSecret): string =>
  s.key === PRIMARY_KEY ? `settings ${s.field === 'password' ? '' : 'OAuth '}${SECRET_NAMES[s.field]}` : `relay ${s.key} (${s.relay}) ${SECRET_NAMES[s.field]}`;

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
    await sqlOf(this.db).transaction(async (tx) => {
      const found = await this.relays.checkSealed(tx);
      const resealed = found.resealed.map(secretName);
      const unreadable = found.unreadable.map(secretName);
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
        await this.notifier.notify(RELAYS_CHANNEL, tx);
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
    });
  }
}
