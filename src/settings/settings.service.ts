import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InvalidInput } from '../common/domain-errors.js';
import { isLocalAddress, localDomainsWith } from '../common/local-domains.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { sqlOf } from '../database/sql.js';
import { defaultMailName } from '../config/mail-name.js';
import { EventLogService } from '../events/event-log.service.js';
import { PrimaryRelayService } from '../relays/primary-relay.service.js';
import { changeSecrets, loginProblems } from '../relays/relay-credentials.js';
import { isSecretField } from '../relays/relay-secrets.js';
import { SECRET_BOX, SecretBox } from '../relays/secret-box.js';
import { DROPPED } from '../relays/secret-binding.js';
import { settingsFieldErrors, settingsInputSchema } from './dto/settings-input.js';
import { applyPreset } from './presets.js';
import { SettingsRows, onPrimary, overlay, storedValue } from './settings-change.js';
import { SettingsEntity } from './settings.entity.js';
import { SettingsView, toSettingsView } from './settings.view.js';

const SETTINGS_CHANNEL = 'postroom_settings';

/** The EHLO name: the hostname setting, or the machine's fully qualified name or address literal (config/mail-name.ts). */
export function heloNameOf(s: Pick<SettingsEntity, 'hostname'>): string {
  return s.hostname || defaultMailName();
}

/**
 * The settings: the settings row (read by intake, delivery, storms, reports, retention) and,
 * through the settings API, the primary relay's row beside it (PrimaryRelayService). A change is
 * validated whole, saved to both rows in one transaction, and written to the event log (never a
 * secret).
 */
@Injectable()
export class SettingsService {
  private cached?: Promise<SettingsEntity>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    private readonly primary: PrimaryRelayService,
  ) {
    notifier.on(SETTINGS_CHANNEL, () => (this.cached = undefined));
  }

  /** The settings row (cached; other instances' changes arrive by NOTIFY). */
  get(): Promise<SettingsEntity> {
    this.cached ??= this.db.getRepository(SettingsEntity).findOneByOrFail({ id: 1 });
    this.cached.catch(() => (this.cached = undefined));
    return this.cached;
  }

  /** Both rows as they are now. */
  async rows(): Promise<SettingsRows> {
    const [settings, primary] = await Promise.all([this.get(), this.primary.get()]);
    return { settings, primary };
  }

  /** GET /api/v1/settings: every field of the description, the primary relay's from its row. */
  async view(): Promise<SettingsView> {
    const { settings, primary } = await this.rows();
    return toSettingsView(settings, primary, this.primary.unreadable(primary));
  }

  /** The EHLO name: the setting, or the machine's name. */
  async heloName(): Promise<string> {
    return heloNameOf(await this.get());
  }

  /** Validates the whole input first: on any error nothing is saved (400 with one reason per field). */
  async update(raw: unknown, actor: string): Promise<SettingsView> {
    // "preset": "sendgrid" fills relayHost, relayPort and security; explicit fields win.
    const withPreset = applyPreset(raw ?? {});
    const parsed = settingsInputSchema.safeParse(withPreset.input);
    if (!parsed.success || withPreset.error) throw invalid({ ...withPreset.error, ...(parsed.success ? {} : settingsFieldErrors(parsed.error)) });
    const input = parsed.data;
    const preset = withPreset.preset;

    const result = await sqlOf(this.db).transaction(async (tx) => {
      const current: SettingsRows = {
        settings: await tx.getRepository(SettingsEntity).findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } }),
        primary: await this.primary.lock(tx),
      };
      const { next, changed } = overlay(current, input);
      // A kept secret stays with the host or token endpoint it was saved for.
      const secrets = changeSecrets(this.box, current.primary, next.primary, input);
      changed.push(...secrets.changed);

      const problems = { ...loginProblems(next.primary), ...secrets.reenter, ...localTargetProblems(next.settings, changed) };
      if (Object.keys(problems).length) throw invalid(problems);
      if (changed.length === 0) return { rows: current, settingsChanged: false, primaryChanged: false };

      const settingsChanged = changed.some((name) => !onPrimary(name));
      const primaryChanged = changed.some(onPrimary);
      const rows: SettingsRows = {
        settings: settingsChanged ? await tx.getRepository(SettingsEntity).save(next.settings) : current.settings,
        primary: primaryChanged ? await this.primary.save(tx, next.primary) : current.primary,
      };
      await this.events.record(
        {
          level: 'info',
          source: 'settings',
          message: `Settings changed by ${actor}: ${changed.join(', ')}${preset ? ` (provider preset ${preset.name})` : ''}`,
          details: {
            actor,
            ...(preset ? { preset: preset.id } : {}),
            changed: Object.fromEntries(
              changed.map((name) => [
                name,
                !isSecretField(name) ? { from: storedValue(current, name), to: storedValue(next, name) } : secrets.dropped.includes(name) ? DROPPED(name) : '(changed)',
              ]),
            ),
          },
        },
        tx,
      );
      if (settingsChanged) await this.notifier.notify(SETTINGS_CHANNEL, tx);
      return { rows, settingsChanged, primaryChanged };
    });
    // Only after COMMIT: this instance's caches and transport see the new values.
    if (result.settingsChanged) this.cached = Promise.resolve(result.rows.settings);
    if (result.primaryChanged) this.primary.committed(result.rows.primary);
    return toSettingsView(result.rows.settings, result.rows.primary, this.primary.unreadable(result.rows.primary));
  }
}

/**
 * The admin address and the alias targets are where mail for local names goes: one at this
 * machine (root@localhost, root@<the hostname setting>) would be sent to a relay as it is and
 * refused there. Checked when one of them, or the hostname, changes.
 */
function localTargetProblems(next: SettingsEntity, changed: readonly string[]): Record<string, string> {
  if (!changed.some((name) => name === 'adminAddress' || name === 'aliases' || name === 'hostname')) return {};
  const local = localDomainsWith(heloNameOf(next));
  const here = (address: string) => address.includes('@') && isLocalAddress(address, local);
  const out: Record<string, string> = {};
  if (here(next.adminAddress)) out.adminAddress = `${next.adminAddress} is this machine: mail for it would have nowhere to go; give an address a relay can deliver to`;
  for (const [name, targets] of Object.entries(next.aliases)) {
    const bad = targets.find(here);
    if (bad !== undefined) {
      out.aliases = `"${name}": "${bad}" is this machine: give an address a relay can deliver to, such as ops@example.com`;
      break;
    }
  }
  return out;
}

function invalid(fields: Record<string, string>): InvalidInput {
  return new InvalidInput('Invalid settings: nothing was saved', fields);
}
