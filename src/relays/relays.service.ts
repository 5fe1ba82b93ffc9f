import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Channel, PgNotifier } from '../database/pg-notifier.js';
import { queryRows } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { REENTER, relayDestination } from '../settings/secret-binding.js';
import { SecretBox } from '../settings/secret-box.js';
import { secretsInUse, unreadableReason } from '../settings/secret-fields.js';
import type { Security } from '../settings/settings.entity.js';
import { SECRET_BOX, SettingsService } from '../settings/settings.service.js';
import { effectivePort } from '../settings/settings.view.js';
import { RelayHealthService } from './relay-health.service.js';
import { RelayInput, relayCreateSchema, relayFieldErrors, relayUpdateSchema } from './relay-input.js';
import { RelayEntity } from './relay.entity.js';
import { PRIMARY_KEY, RelayView, relayAddress } from './relay.view.js';

export const RELAYS_CHANNEL = 'postroom_relays' satisfies Channel;

/** A relay as the delivery transport needs it: the password in clear. */
export interface DeliveryRelay {
  key: string;
  host: string;
  port: number;
  security: Security;
  tlsVerify: boolean;
  auth?: { user: string; pass: string };
  /** OAuth2 (XOAUTH2) as this mailbox; the primary relay only. */
  oauth?: { user: string };
  priority: number;
  /** Why this relay cannot log in as configured (a stored secret that does not open): delivery skips it. */
  unusable?: string;
}

/** A backup relay as the start-up check names it. */
export interface SealedRelay {
  id: string;
  relay: string;
}

type Described = Omit<RelayView, 'health'>;

const SHOWN_FIELDS = ['host', 'port', 'security', 'tlsVerify', 'authEnabled', 'username', 'priority', 'enabled'] as const;

/**
 * The relays mail goes through: the primary one of the settings row (priority 0) and the backup
 * relays of the relay table. Every change goes to the event log (never the password) and is
 * announced on postroom_relays, so every instance rebuilds its transport.
 */
@Injectable()
export class RelaysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    private readonly health: RelayHealthService,
  ) {}

  /** Every relay in the order they are tried (the primary first when set), with its health. */
  async list(): Promise<RelayView[]> {
    const described = await this.describeAll();
    const health = await this.health.read(described.map((r) => ({ key: r.id, relay: r.relay })));
    return described.map((r) => ({ ...r, health: health.get(r.id)! }));
  }

  async get(id: string): Promise<RelayView> {
    const found = (await this.list()).find((r) => r.id === id);
    if (!found) throw notFound(id);
    return found;
  }

  /** The relays delivery uses, in priority order (disabled backups left out). */
  async deliveryRelays(): Promise<DeliveryRelay[]> {
    const out: DeliveryRelay[] = [];
    const s = await this.settings.get();
    if (s.relayHost) {
      const oauth = s.authEnabled && s.authMethod === 'oauth2';
      const { secrets, unreadable } = await this.settings.openSecrets();
      const lost = secretsInUse(s).find((field) => unreadable.includes(field));
      const pass = s.authEnabled && !oauth ? secrets.password : undefined;
      out.push({
        key: PRIMARY_KEY,
        host: s.relayHost,
        port: effectivePort(s),
        security: s.security,
        tlsVerify: s.tlsVerify,
        auth: s.authEnabled && pass !== undefined ? { user: s.username, pass } : undefined,
        ...(oauth ? { oauth: { user: s.username } } : {}),
        priority: 0,
        ...(lost ? { unusable: unreadableReason(lost) } : {}),
      });
    }
    for (const r of await this.backups()) {
      if (!r.enabled) continue;
      const pass = r.authEnabled && r.passwordSealed ? this.box.tryOpen(r.passwordSealed) : undefined;
      out.push({
        key: String(r.id),
        host: r.host,
        port: effectivePort({ relayPort: r.port, security: r.security }),
        security: r.security,
        tlsVerify: r.tlsVerify,
        auth: r.authEnabled && pass !== undefined ? { user: r.username, pass } : undefined,
        priority: r.priority,
        ...(r.authEnabled && r.passwordSealed && pass === undefined ? { unusable: unreadableReason('password') } : {}),
      });
    }
    return out;
  }

  /** Adds a backup relay; 400 with one reason per field, and nothing saved, on any error. */
  async create(raw: unknown, actor: string): Promise<RelayView> {
    const body = objectOrEmpty(raw);
    const parsed = relayCreateSchema.safeParse(body);
    if (!parsed.success) {
      const fields = relayFieldErrors(parsed.error);
      if (body.host === undefined) fields.host = 'is required: a host name or an IP address';
      throw invalid(fields);
    }
    const input = parsed.data;
    const saved = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(RelayEntity);
      // Serialises concurrent additions so the default priority is unique.
      await tx.query(`LOCK TABLE relay IN SHARE ROW EXCLUSIVE MODE`);
      const [top] = (await tx.query(`SELECT COALESCE(MAX(priority), 0)::int AS max FROM relay`)) as { max: number }[];
      const next = repo.create({
        host: input.host,
        port: input.port ?? null,
        security: input.security ?? 'starttls',
        tlsVerify: input.tlsVerify ?? true,
        authEnabled: input.authEnabled ?? false,
        username: input.username ?? '',
        passwordSealed: input.password ? this.box.seal(input.password) : null,
        priority: input.priority ?? Math.min(1000, (top?.max ?? 0) + 1),
        enabled: input.enabled ?? true,
      });
      checkAuth(next);
      const saved = await repo.save(next);
      const shown = this.describeBackup(saved);
      await this.record(tx, `Relay ${shown.relay} added by ${actor} (priority ${saved.priority})`, {
        actor,
        relayId: shown.id,
        relay: Object.fromEntries([...SHOWN_FIELDS.map((k) => [k, shown[k]]), ['passwordSet', shown.passwordSet]]),
      });
      return saved;
    });
    this.announce();
    return this.get(String(saved.id));
  }

  /** Changes a backup relay (absent fields keep their value; an empty password keeps the stored one). */
  async update(id: string, raw: unknown, actor: string): Promise<RelayView> {
    const numeric = this.backupId(id, 'change');
    const parsed = relayUpdateSchema.safeParse(objectOrEmpty(raw));
    if (!parsed.success) throw invalid(relayFieldErrors(parsed.error));
    const input: RelayInput = parsed.data;
    const result = await this.db.transaction(async (tx) => {
      const repo = tx.getRepository(RelayEntity);
      const current = await repo.findOne({ where: { id: numeric }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound(id);
      const next: RelayEntity = { ...current };
      const changed: string[] = [];
      for (const key of SHOWN_FIELDS) {
        const value = input[key];
        if (value === undefined || current[key] === value) continue;
        (next as unknown as Record<string, unknown>)[key] = value;
        changed.push(key);
      }
      let passwordChange = '(changed)';
      if (input.password === null && current.passwordSealed !== null) {
        next.passwordSealed = null;
        changed.push('password');
      } else if (typeof input.password === 'string' && input.password !== '') {
        next.passwordSealed = this.box.seal(input.password);
        changed.push('password');
      } else if (current.passwordSealed !== null && relayDestination(current.host, current.port, current.security) !== relayDestination(next.host, next.port, next.security)) {
        // A kept password stays with the host, port and security it was saved for.
        if (next.authEnabled) throw invalid({ password: REENTER.password });
        next.passwordSealed = null;
        changed.push('password');
        passwordChange = '(cleared: saved for another host)';
      }
      checkAuth(next);
      if (changed.length === 0) return { saved: current, changed };
      const saved = await repo.save(next);
      const before = this.describeBackup(current);
      const after = this.describeBackup(saved);
      await this.record(tx, `Relay ${after.relay} changed by ${actor}: ${changed.join(', ')}`, {
        actor,
        relayId: after.id,
        changed: Object.fromEntries(changed.map((k) => [k, k === 'password' ? passwordChange : { from: before[k as (typeof SHOWN_FIELDS)[number]], to: after[k as (typeof SHOWN_FIELDS)[number]] }])),
      });
      return { saved, changed };
    });
    if (result.changed.length) this.announce();
    return this.get(String(result.saved.id));
  }

  /** Removes a backup relay (and its health). */
  async remove(id: string, actor: string): Promise<{ deleted: string }> {
    const numeric = this.backupId(id, 'remove');
    await this.db.transaction(async (tx) => {
      const [gone] = await queryRows<{ host: string; port: number | null; security: Security }>(tx, `DELETE FROM relay WHERE id = $1 RETURNING host, port, security`, [numeric]);
      if (!gone) throw notFound(id);
      await tx.query(`DELETE FROM relay_health WHERE relay_key = $1`, [String(numeric)]);
      const relay = relayAddress(gone.host, gone.port, gone.security);
      await this.record(tx, `Relay ${relay} removed by ${actor}`, { actor, relayId: String(numeric), relay });
    });
    await this.health.forget(String(numeric)).catch(() => undefined);
    this.announce();
    return { deleted: String(numeric) };
  }

  /**
   * At start-up: re-seals under the current key, in the caller's transaction, the backup
   * passwords that only the legacy key opens, and names those that no key opens.
   */
  async checkSealed(tx: EntityManager): Promise<{ resealed: SealedRelay[]; unreadable: SealedRelay[] }> {
    const repo = tx.getRepository(RelayEntity);
    const found = { resealed: [] as SealedRelay[], unreadable: [] as SealedRelay[] };
    for (const r of await repo.find({ order: { id: 'ASC' }, lock: { mode: 'pessimistic_write' } })) {
      if (r.passwordSealed === null) continue;
      const state = this.box.check(r.passwordSealed);
      const named = { id: String(r.id), relay: relayAddress(r.host, r.port, r.security) };
      if (state === 'unreadable') found.unreadable.push(named);
      if (state !== 'legacy') continue;
      // Re-sealing changes nothing the operator set: updated_at keeps its time.
      await repo.update({ id: r.id }, { passwordSealed: this.box.seal(this.box.open(r.passwordSealed)), updatedAt: r.updatedAt });
      found.resealed.push(named);
    }
    return found;
  }

  private async describeAll(): Promise<Described[]> {
    const out: Described[] = [];
    const s = await this.settings.get();
    if (s.relayHost) {
      out.push({
        id: PRIMARY_KEY,
        primary: true,
        host: s.relayHost,
        port: s.relayPort,
        effectivePort: effectivePort(s),
        relay: relayAddress(s.relayHost, s.relayPort, s.security),
        security: s.security,
        tlsVerify: s.tlsVerify,
        authEnabled: s.authEnabled,
        username: s.username,
        passwordSet: s.passwordSealed !== null,
        secretsUnreadable: await this.settings.unreadableSecrets(),
        priority: 0,
        enabled: true,
        updatedAt: new Date(s.updatedAt).toISOString(),
      });
    }
    for (const r of await this.backups()) out.push(this.describeBackup(r));
    return out;
  }

  private describeBackup(r: RelayEntity): Described {
    return {
      id: String(r.id),
      primary: false,
      host: r.host,
      port: r.port,
      effectivePort: effectivePort({ relayPort: r.port, security: r.security }),
      relay: relayAddress(r.host, r.port, r.security),
      security: r.security,
      tlsVerify: r.tlsVerify,
      authEnabled: r.authEnabled,
      username: r.username,
      passwordSet: r.passwordSealed !== null,
      secretsUnreadable: r.passwordSealed !== null && this.box.check(r.passwordSealed) === 'unreadable' ? ['password'] : [],
      priority: r.priority,
      enabled: r.enabled,
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }

  private backups(): Promise<RelayEntity[]> {
    return this.db.getRepository(RelayEntity).find({ order: { priority: 'ASC', id: 'ASC' } });
  }

  private backupId(id: string, what: string): number {
    if (id === PRIMARY_KEY) {
      throw new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        message: `The primary relay is the one of the settings: ${what} it with PUT /api/v1/settings (relayHost, relayPort, security, tlsVerify, authEnabled, username, password)`,
      });
    }
    if (!/^[1-9]\d{0,9}$/.test(id) || Number(id) > 2_147_483_647) throw notFound(id);
    return Number(id);
  }

  private async record(tx: EntityManager, message: string, details: Record<string, unknown>): Promise<void> {
    await this.events.record({ level: 'info', source: 'settings', message, details }, tx);
    await tx.query(`SELECT pg_notify('${RELAYS_CHANNEL}', '')`);
  }

  /** After COMMIT: this instance's transport is rebuilt at once (others by NOTIFY). */
  private announce(): void {
    this.notifier.notifyLocal(RELAYS_CHANNEL, 'local');
  }
}

function checkAuth(r: RelayEntity): void {
  if (!r.authEnabled) return;
  const cross: Record<string, string> = {};
  if (!r.username) cross.username = 'is required when SASL authentication is on';
  if (!r.passwordSealed) cross.password = 'is required when SASL authentication is on';
  if (Object.keys(cross).length) throw invalid(cross);
}

function objectOrEmpty(raw: unknown): Record<string, unknown> {
  return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

function invalid(fields: Record<string, string>): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid relay: nothing was saved', fields });
}

function notFound(id: string): NotFoundException {
  return new NotFoundException({ statusCode: 404, error: 'Not Found', message: `No relay ${id}` });
}
