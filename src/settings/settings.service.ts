import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import os from 'node:os';
import { DataSource } from 'typeorm';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { SettingsInput, fieldErrors, settingsInputSchema } from './dto/settings-input.js';
import { ProviderPreset, applyPreset } from './presets.js';
import { SecretBox } from './secret-box.js';
import { SettingsEntity } from './settings.entity.js';
import { SettingsView, toSettingsView } from './settings.view.js';

export const SECRET_BOX = Symbol('SECRET_BOX');

const SECRET_FIELDS = new Set(['password']);

/** Reads and changes the settings row; every change goes to the event log, never the secret. */
@Injectable()
export class SettingsService {
  private cached?: Promise<SettingsEntity>;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
  ) {
    notifier.on('postroom_settings', () => (this.cached = undefined));
  }

  /** The current settings (cached; other instances' changes arrive by NOTIFY). */
  get(): Promise<SettingsEntity> {
    this.cached ??= this.db.getRepository(SettingsEntity).findOneByOrFail({ id: 1 });
    this.cached.catch(() => (this.cached = undefined));
    return this.cached;
  }

  async view(): Promise<SettingsView> {
    return toSettingsView(await this.get());
  }

  /** The relay password in clear, for the transport only. */
  async password(): Promise<string | undefined> {
    const s = await this.get();
    return s.passwordSealed ? this.box.open(s.passwordSealed) : undefined;
  }

  /** The EHLO name: the setting, or the machine's name. */
  async heloName(): Promise<string> {
    return (await this.get()).hostname || os.hostname();
  }

  /** Validates the whole input first: on any error nothing is saved (400 with one reason per field). */
  async update(raw: unknown, actor: string): Promise<SettingsView> {
    // "preset": "sendgrid" fills relayHost, relayPort and security; explicit fields win.
    const withPreset = applyPreset(raw ?? {});
    const parsed = settingsInputSchema.safeParse(withPreset.input);
    if (!parsed.success || withPreset.error) throw invalid({ ...withPreset.error, ...(parsed.success ? {} : fieldErrors(parsed.error)) });
    const input: SettingsInput = parsed.data;
    const preset: ProviderPreset | undefined = withPreset.preset;

    const saved = await this.db.transaction(async (tx) => {
      const current = await tx.getRepository(SettingsEntity).findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
      const next: SettingsEntity = { ...current };
      const changed: string[] = [];
      for (const [key, value] of Object.entries(input) as [keyof SettingsInput, unknown][]) {
        if (key === 'password') continue;
        if ((current as unknown as Record<string, unknown>)[key] !== value) {
          (next as unknown as Record<string, unknown>)[key] = value;
          changed.push(key);
        }
      }
      if (input.password === null && current.passwordSealed !== null) {
        next.passwordSealed = null;
        changed.push('password');
      } else if (typeof input.password === 'string' && input.password !== '') {
        next.passwordSealed = this.box.seal(input.password);
        changed.push('password');
      }

      const cross: Record<string, string> = {};
      if (next.authEnabled && next.relayHost) {
        if (!next.username) cross.username = 'is required when SASL authentication is on';
        if (!next.passwordSealed) cross.password = 'is required when SASL authentication is on';
      }
      if (Object.keys(cross).length) throw invalid(cross);
      if (changed.length === 0) return current;

      const saved = await tx.getRepository(SettingsEntity).save(next);
      await this.events.record(
        {
          level: 'info',
          source: 'settings',
          message: `Settings changed by ${actor}: ${changed.join(', ')}${preset ? ` (provider preset ${preset.name})` : ''}`,
          details: {
            actor,
            ...(preset ? { preset: preset.id } : {}),
            changed: Object.fromEntries(
              changed.map((k) => [k, SECRET_FIELDS.has(k) ? '(changed)' : { from: (current as unknown as Record<string, unknown>)[k], to: (next as unknown as Record<string, unknown>)[k] }]),
            ),
          },
        },
        tx,
      );
      await tx.query(`SELECT pg_notify('postroom_settings', '')`);
      return saved;
    });
    // Only after COMMIT: this instance's cache and transport see the new values.
    this.notifier.notifyLocal('postroom_settings', 'local');
    this.cached = Promise.resolve(saved);
    return toSettingsView(saved);
  }
}

function invalid(fields: Record<string, string>): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid settings: nothing was saved', fields });
}
