import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import type { Logger } from 'pino';
import { isLocalAddress, localDomainsWith } from '../common/local-domains.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { Sql } from '../database/sql.js';
import { EventLogService, NewEvent } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { QueueActionDetails } from '../queue/queue-action-details.js';
import { fateEntries } from '../queue/received-entry.js';
import { MessageFacts, QueueRepository, ReleaseChange } from '../queue/queue.repository.js';
import { SettingsEntity } from '../settings/settings.entity.js';
import { SettingsService } from '../settings/settings.service.js';
import type { StormVerdict } from '../storm/storm-guard.js';
import { StormService } from '../storm/storm.service.js';
import { LOCAL_HOLD, LocalMailPolicy, resolveRecipients } from './local-mail.js';

/**
 * Mail for local names beyond intake: the policy intake applies, the messages that wait for an
 * admin address (for the dashboard's banner), and their release once an admin address or an
 * alias gives them somewhere to go (on every settings change, on any instance).
 */
@Injectable()
export class LocalMailService {
  private readonly log: Logger;
  private domains?: { key: string; set: Set<string> };
  private releasing?: Promise<void>;

  constructor(
    private readonly sql: Sql,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly settings: SettingsService,
    private readonly repo: QueueRepository,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    private readonly mailLog: MailLogService,
    private readonly storm: StormService,
  ) {
    this.log = root.child({ module: 'local-mail' });
    // After SettingsService's own listener has dropped its cache (registered first: it is injected here).
    notifier.on('postroom_settings', () => void this.releaseResolvable());
  }

  /** How local names are rewritten now. */
  policy(settings: Pick<SettingsEntity, 'aliases' | 'adminAddress' | 'fromAddress'>, hostname: string): LocalMailPolicy {
    return { localDomains: this.domainsFor(hostname), aliases: settings.aliases, adminAddress: settings.adminAddress, fromAddress: settings.fromAddress, hostname };
  }

  /** The domains that mean this machine now (localhost, its names, the hostname setting). */
  async localDomains(): Promise<ReadonlySet<string>> {
    return this.domainsFor(await this.settings.heloName());
  }

  /** Kept per host name: intake asks for every message. */
  private domainsFor(hostname: string): Set<string> {
    const key = hostname.toLowerCase();
    if (this.domains?.key !== key) this.domains = { key, set: localDomainsWith(hostname) };
    return this.domains.set;
  }

  /** The messages waiting for an admin address, and the local names they are for. */
  async waiting(): Promise<{ count: number; names: string[] }> {
    const held = await this.repo.heldFor(LOCAL_HOLD);
    const policy = this.policy(await this.settings.get(), await this.settings.heloName());
    const names = new Set(held.flatMap((m) => m.recipients.filter((r) => isLocalAddress(r, policy.localDomains))));
    return { count: held.length, names: [...names].sort() };
  }

  /**
   * Queues the waiting messages whose local names now have an alias or the admin address (one
   * run at a time): at start-up, on every settings change, and each minute for a message that
   * intake stored on hold under the settings of a moment before.
   */
  @Interval('local-mail-release', 60_000)
  releaseResolvable(): Promise<void> {
    this.releasing ??= this.release()
      .catch((err: unknown) => this.log.error({ err }, 'could not release the mail waiting for an admin address'))
      .finally(() => (this.releasing = undefined));
    return this.releasing;
  }

  /**
   * Releases, in arrival order, each waiting message whose local names now have somewhere to go,
   * through the alert-storm guard as at intake: a pile of identical cron mails that waited for
   * an admin address reaches it as the first few and a digest, not as a flood.
   */
  private async release(): Promise<void> {
    const held = await this.repo.heldFor(LOCAL_HOLD);
    if (held.length === 0) return;
    const settings = await this.settings.get();
    const policy = this.policy(settings, await this.settings.heloName());
    const checked: { m: { id: string; sender: string; recipients: string[]; subject: string }; verdict: StormVerdict }[] = [];
    const stormEvents: NewEvent[] = [];
    const changes: ReleaseChange[] = held.flatMap((m) => {
      const r = resolveRecipients(m.recipients, policy);
      if (r.unresolved.length) return [];
      const originals = { ...(m.original_recipients ?? {}), ...(r.originals ?? {}) };
      const message = { id: m.id, sender: m.sender, recipients: r.recipients, subject: m.subject };
      const { verdict, storm, event } = this.storm.holdOnRelease(message, settings);
      checked.push({ m: message, verdict });
      if (event) stormEvents.push(event);
      return [{ id: m.id, recipients: r.recipients, originals: Object.keys(originals).length ? originals : null, ...(storm ? { storm } : {}) }];
    });
    if (changes.length === 0) return;
    let released: MessageFacts[] = [];
    let committed = false;
    try {
      await this.sql.transaction(async (tx) => {
        released = await this.repo.releaseWith(tx, LOCAL_HOLD, changes);
        if (released.length === 0) return;
        const ids = released.map((m) => m.id);
        const where = settings.adminAddress ? `the admin address ${settings.adminAddress}` : 'their aliases';
        const storms = new Map(changes.flatMap((c) => (c.storm ? [[c.id, c.storm] as const] : [])));
        const stormed = released.filter((m) => storms.has(m.id));
        await this.mailLog.appendIn(tx, [
          ...fateEntries(released, 'released', 'Postroom', `local mail released to ${where}`),
          ...stormed.flatMap((m) => {
            const storm = storms.get(m.id)!;
            return fateEntries([m], 'held', storm.reason === 'duplicate' ? 'storm duplicate' : 'storm rate', storm.lastError);
          }),
        ]);
        await this.events.record(
          {
            level: 'info',
            source: 'queue',
            message: `${ids.length} message(s) for local names released to ${where}${stormed.length ? ` (${stormed.length} of them held back by alert-storm protection for a digest)` : ''}`,
            details: { action: 'release', count: ids.length, ids, reason: LOCAL_HOLD } satisfies QueueActionDetails,
          },
          tx,
        );
        for (const e of stormEvents) await this.events.record(e, tx);
        await this.notifier.notify('postroom_wakeup', tx, 'release');
      });
      committed = true;
    } finally {
      // The guard counted each one: a message that did not leave its hold after all (an error, or changed meanwhile) is taken back.
      const left = new Set(committed ? released.map((m) => m.id) : []);
      for (const c of checked) if (!left.has(c.m.id)) this.storm.forget(c.m, settings, c.verdict);
    }
  }
}
