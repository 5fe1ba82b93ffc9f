import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import os from 'node:os';
import { DataSource, EntityManager } from 'typeorm';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { SettingsInput, settingsFieldErrors, settingsInputSchema } from './dto/settings-input.js';
import { ProviderPreset, applyPreset } from './presets.js';
import { rebind } from './secret-binding.js';
import { SecretBox } from './secret-box.js';
import { SECRET_COLUMNS, SECRET_FIELDS, type SecretField, isSecretField } from './secret-fields.js';
import { SettingsEntity } from './settings.entity.js';
import { SettingsView, toSettingsView } from './settings.view.js';

export const SECRET_BOX = Symbol('SECRET_BOX');

/** The relay secrets in clear, for the transport and the token provider only. */
export interface RelaySecrets {
  password?: string;
  oauthClientSecret?: string;
  oauthRefreshToken?: string;
  oauthServiceAccountKey?: string;
}

/** The stored secrets that open, and the fields of those that do not (sealed under another SECRET_KEY). */
export interface OpenedSecrets {
  secrets: RelaySecrets;
  unreadable: SecretField[];
}

/** What the start-up check found in the settings row (see SecretKeyCheck). */
export interface SealedCheck {
  resealed: SecretField[];
  unreadable: SecretField[];
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
    const s = await this.get();
    return toSettingsView(s, this.unreadableOf(s));
  }

  /** The write-only fields whose stored value cannot be opened with this SECRET_KEY. */
  async unreadableSecrets(): Promise<SecretField[]> {
    return this.unreadableOf(await this.get());
  }

  /**
   * The relay secrets in clear (for the transport and the token provider only). A secret that
   * cannot be opened is left out and named in `unreadable`: only what needs it fails.
   */
  async openSecrets(): Promise<OpenedSecrets> {
    const s = await this.get();
    const out: OpenedSecrets = { secrets: {}, unreadable: [] };
    for (const field of SECRET_FIELDS) {
      const sealed = s[SECRET_COLUMNS[field]];
      if (sealed === null) continue;
      const clear = this.box.tryOpen(sealed);
      if (clear === undefined) out.unreadable.push(field);
      else out.secrets[field] = clear;
    }
    return out;
  }

  /** The readable relay secrets in clear (see openSecrets). */
  async secrets(): Promise<RelaySecrets> {
    return (await this.openSecrets()).secrets;
  }

  /**
   * At start-up: re-seals under the current key, in the caller's transaction, what only the
   * legacy key opens, and names what no key opens.
   */
  async checkSealed(tx: EntityManager): Promise<SealedCheck> {
    const repo = tx.getRepository(SettingsEntity);
    const row = await repo.findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
    const found: SealedCheck = { resealed: [], unreadable: [] };
    const resealed: Partial<Record<(typeof SECRET_COLUMNS)[SecretField], string>> = {};
    for (const field of SECRET_FIELDS) {
      const sealed = row[SECRET_COLUMNS[field]];
      if (sealed === null) continue;
      const state = this.box.check(sealed);
      if (state === 'unreadable') found.unreadable.push(field);
      if (state !== 'legacy') continue;
      resealed[SECRET_COLUMNS[field]] = this.box.seal(this.box.open(sealed));
      found.resealed.push(field);
    }
    // Re-sealing changes no setting: "last changed" keeps its time.
    if (found.resealed.length) await repo.update({ id: 1 }, { ...resealed, updatedAt: row.updatedAt });
    return found;
  }

  private unreadableOf(s: SettingsEntity): SecretField[] {
    return SECRET_FIELDS.filter((field) => {
      const sealed = s[SECRET_COLUMNS[field]];
      return sealed !== null && this.box.check(sealed) === 'unreadable';
    });
  }

  /**
   * Stores a refresh token obtained by "Authorize with Google" or rotated by the provider at a
   * refresh (sealed), with an event that never shows it; every instance drops its cached
   * settings. With `replaces` (the sealed value the rotated token came from), it is stored only
   * while that value is still the stored one: a token entered meanwhile wins. Answers whether it
   * was stored.
   */
  async storeOAuthRefreshToken(token: string, actor: string, how: string, replaces?: string | null): Promise<boolean> {
    const saved = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(SettingsEntity);
      const current = await repo.findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
      if (replaces !== undefined && current.oauthRefreshTokenSealed !== replaces) return undefined;
      const saved = await repo.save({ ...current, oauthRefreshTokenSealed: this.box.seal(token) });
      await this.events.record(
        { level: 'info', source: 'settings', message: `OAuth refresh token stored by ${actor} (${how})`, details: { actor, changed: { oauthRefreshToken: '(changed)' } } },
        tx,
      );
      await tx.query(`SELECT pg_notify('postroom_settings', '')`);
      return saved;
    });
    if (!saved) return false;
    this.notifier.notifyLocal('postroom_settings', 'local');
    this.cached = Promise.resolve(saved);
    return true;
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
    if (!parsed.success || withPreset.error) throw invalid({ ...withPreset.error, ...(parsed.success ? {} : settingsFieldErrors(parsed.error)) });
    const input: SettingsInput = parsed.data;
    const preset: ProviderPreset | undefined = withPreset.preset;

    const saved = await this.db.transaction(async (tx) => {
      const current = await tx.getRepository(SettingsEntity).findOneOrFail({ where: { id: 1 }, lock: { mode: 'pessimistic_write' } });
      const next: SettingsEntity = { ...current };
      const changed: string[] = [];
      for (const [key, value] of Object.entries(input) as [keyof SettingsInput, unknown][]) {
        if (isSecretField(key)) continue;
        if (!sameValue((current as unknown as Record<string, unknown>)[key], value)) {
          (next as unknown as Record<string, unknown>)[key] = value;
          changed.push(key);
        }
      }
      const kept: SecretField[] = [];
      for (const field of SECRET_FIELDS) {
        const column = SECRET_COLUMNS[field];
        const value = input[field];
        if (value === null && current[column] !== null) {
          next[column] = null;
          changed.push(field);
        } else if (typeof value === 'string' && value !== '') {
          next[column] = this.box.seal(field === 'password' ? value : value.trim());
          changed.push(field);
        } else if (current[column] !== null) {
          kept.push(field);
        }
      }
      // A kept secret stays with the host or token endpoint it was saved for.
      const { reenter, drop } = rebind(current, next, kept);
      for (const field of drop) {
        next[SECRET_COLUMNS[field]] = null;
        changed.push(field);
      }

      const cross = { ...crossFieldErrors(next), ...reenter };
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
              changed.map((k) => [
                k,
                !isSecretField(k)
                  ? { from: (current as unknown as Record<string, unknown>)[k], to: (next as unknown as Record<string, unknown>)[k] }
                  : drop.includes(k)
                    ? `(cleared: saved for another ${k === 'password' ? 'host' : 'token endpoint'})`
                    : '(changed)',
              ]),
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
    return toSettingsView(saved, this.unreadableOf(saved));
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
