import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { PgNotifier } from '../database/pg-notifier.js';
import { sqlOf } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { type OpenedSecrets, type SecretField, openSecrets, unreadableSecrets } from './relay-secrets.js';
import { RelayEntity } from './relay.entity.js';
import { RELAYS_CHANNEL } from './relays-channel.js';
import { SECRET_BOX, SecretBox } from './secret-box.js';

const PRIMARY = { priority: 0 } as const;

/**
 * The primary relay: the relay row of priority 0, which the settings API shows and changes
 * (relayHost, relayPort, security, the SASL and OAuth2 login) and whose OAuth2 login the token
 * service uses. Read on every OAuth2 send, so it is cached; a change on any instance arrives
 * by NOTIFY on postroom_relays.
 */
@Injectable()
export class PrimaryRelayService {
  private cached?: Promise<RelayEntity>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
  ) {
    notifier.on(RELAYS_CHANNEL, () => (this.cached = undefined));
  }

  get(): Promise<RelayEntity> {
    this.cached ??= this.db.getRepository(RelayEntity).findOneByOrFail(PRIMARY);
    this.cached.catch(() => (this.cached = undefined));
    return this.cached;
  }

  /** The stored secrets in clear (of this row as read, or as it is now), for the token provider and the test email only; those this SECRET_KEY cannot open are named instead. */
  async openSecrets(row?: RelayEntity): Promise<OpenedSecrets> {
    return openSecrets(this.box, row ?? (await this.get()));
  }

  /** The write-only fields of this row whose stored value this SECRET_KEY cannot open. */
  unreadable(row: RelayEntity): SecretField[] {
    return unreadableSecrets(this.box, row);
  }

  /** In the caller's transaction: the row, locked until it ends. */
  lock(tx: EntityManager): Promise<RelayEntity> {
    return tx.getRepository(RelayEntity).findOneOrFail({ where: PRIMARY, lock: { mode: 'pessimistic_write' } });
  }

  /** In the caller's transaction (Sql.transaction): saves the row and tells every instance at COMMIT; then call committed(). */
  async save(tx: EntityManager, row: RelayEntity): Promise<RelayEntity> {
    const saved = await tx.getRepository(RelayEntity).save(row);
    await this.notifier.notify(RELAYS_CHANNEL, tx);
    return saved;
  }

  /** After the caller's COMMIT: this instance's cache holds the saved row at once. */
  committed(row: RelayEntity): void {
    this.cached = Promise.resolve(row);
  }

  /**
   * Stores a refresh token obtained by "Authorize with Google" or rotated by the provider at a
   * refresh (sealed), with an event that never shows it. With `replaces` (the sealed value the
   * rotated token came from), it is stored only while that value is still the stored one: a
   * token entered meanwhile wins. Answers whether it was stored.
   */
  async storeOAuthRefreshToken(token: string, actor: string, how: string, replaces?: string | null): Promise<boolean> {
    const saved = await sqlOf(this.db).transaction(async (tx) => {
      const current = await this.lock(tx);
      if (replaces !== undefined && current.oauthRefreshTokenSealed !== replaces) return undefined;
      const saved = await this.save(tx, { ...current, oauthRefreshTokenSealed: this.box.seal(token) });
      await this.events.record(
        { level: 'info', source: 'settings', message: `OAuth refresh token stored by ${actor} (${how})`, details: { actor, changed: { oauthRefreshToken: '(changed)' } } },
        tx,
      );
      return saved;
    });
    if (!saved) return false;
    this.committed(saved);
    return true;
  }
}
