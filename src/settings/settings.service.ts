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

/** Write-only fields and the sealed column each is kept in. */
export const SECRET_COLUMNS = {
  password: 'passwordSealed',
  oauthClientSecret: 'oauthClientSecretSealed',
  oauthRefreshToken: 'oauthRefreshTokenSealed',
  oauthServiceAccountKey: 'oauthServiceAccountKeySealed',
} as const satisfies Record<string, keyof SettingsEntity>;

type SecretField = keyof typeof SECRET_COLUMNS;
const SECRET_FIELDS = new Set<string>(Object.keys(SECRET_COLUMNS));

/** The relay secrets in clear, for the transport and the token provider only. */
export interface RelaySecrets {
  password?: string;
  oauthClientSecret?: string;
  oauthRefreshToken?: string;
  oauthServiceAccountKey?: string;
}

/** The machine's name, asked once (a system call that intake would otherwise make per message). */
let hostname: string | undefined;
const machineName = (): string => (hostname ??= os.hostname());

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

  /** Every relay secret of the settings in clear (for the transport and the token provider only). */
  async secrets(): Promise<RelaySecrets> {
    const s = await this.get();
    const out: RelaySecrets = {};
    for (const [field, column] of Object.entries(SECRET_COLUMNS) as [SecretField, (typeof SECRET_COLUMNS)[SecretField]][]) {
      const sealed = s[column];
      if (sealed) out[field] = this.box.open(sealed);
    }
    return out;
  }

  /**
   * Stores a refresh token obtained by "Authorize with Google" (sealed), with an event that
   * never shows it; every instance drops its cached settings and token.
   */
  async storeOAuthRefreshToken(token: string, actor: string, how: string): Promise<void> {
    const saved = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(SettingsEntity);
      const current = await repo.findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
      const saved = await repo.save({ ...current, oauthRefreshTokenSealed: this.box.seal(token) });
      await this.events.record(
        { level: 'info', source: 'settings', message: `OAuth refresh token stored by ${actor} (${how})`, details: { actor, changed: { oauthRefreshToken: '(changed)' } } },
        tx,
      );
      await tx.query(`SELECT pg_notify('postroom_settings', '')`);
      return saved;
    });
    this.notifier.notifyLocal('postroom_settings', 'local');
    this.cached = Promise.resolve(saved);
  }

  /** The EHLO name: the setting, or the machine's name. */
  async heloName(): Promise<string> {
    return (await this.get()).hostname || machineName();
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
        if (SECRET_FIELDS.has(key)) continue;
        if (!sameValue((current as unknown as Record<string, unknown>)[key], value)) {
          (next as unknown as Record<string, unknown>)[key] = value;
          changed.push(key);
        }
      }
      for (const [field, column] of Object.entries(SECRET_COLUMNS) as [SecretField, (typeof SECRET_COLUMNS)[SecretField]][]) {
        const value = input[field];
        if (value === null && current[column] !== null) {
          next[column] = null;
          changed.push(field);
        } else if (typeof value === 'string' && value !== '') {
          next[column] = this.box.seal(field === 'password' ? value : value.trim());
          changed.push(field);
        }
      }

      const cross = crossFieldErrors(next);
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

/** Equal settings values: scalars, or the aliases object (compared by content). */
function sameValue(a: unknown, b: unknown): boolean {
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

/** What a combination of settings is missing (one reason per field), checked after merging. */
export function crossFieldErrors(s: SettingsEntity): Record<string, string> {
  const cross: Record<string, string> = {};
  if (!s.authEnabled || !s.relayHost) return cross;
  if (s.authMethod === 'password') {
    if (!s.username) cross.username = 'is required when SASL authentication is on';
    if (!s.passwordSealed) cross.password = 'is required when SASL authentication is on';
    return cross;
  }
  const need = (field: string, present: boolean, why: string) => {
    if (!present) cross[field] = `is required ${why}`;
  };
  need('username', !!s.username, 'with OAuth2: the mailbox to send as');
  switch (s.oauthProvider) {
    case 'microsoft':
      need('oauthTenantId', !!s.oauthTenantId, 'for Microsoft 365 (the directory / tenant id)');
      need('oauthClientId', !!s.oauthClientId, 'for Microsoft 365 (the application / client id)');
      need('oauthClientSecret', s.oauthClientSecretSealed !== null, 'for Microsoft 365 (a client secret of the app registration)');
      break;
    case 'google':
      need('oauthClientId', !!s.oauthClientId, 'for Google (the OAuth client id)');
      need('oauthClientSecret', s.oauthClientSecretSealed !== null, 'for Google (the OAuth client secret)');
      break;
    case 'google-service-account':
      need('oauthServiceAccountKey', s.oauthServiceAccountKeySealed !== null, 'for a Google service account (its JSON key)');
      break;
    case 'generic':
      need('oauthTokenUrl', !!s.oauthTokenUrl, 'for a generic provider (the token endpoint)');
      need('oauthClientId', !!s.oauthClientId, 'for a generic provider');
      break;
  }
  return cross;
}

function invalid(fields: Record<string, string>): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid settings: nothing was saved', fields });
}
