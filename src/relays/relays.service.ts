import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { bodyFields, rowId } from '../common/api-input.js';
import { Conflict, InvalidInput, NotFound } from '../common/domain-errors.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { queryRows, sqlOf } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { DeliveryRelay, deliveryRelay } from './delivery-relay.js';
import { RelayHealthService } from './relay-health.service.js';
import { PRIMARY_KEY, effectivePort, relayAddress, relayKey } from './relay-address.js';
import { changeSecrets, loginProblems } from './relay-credentials.js';
import { RelayInput, relayCreateSchema, relayFieldErrors, relayUpdateSchema } from './relay-input.js';
import { type OpenedSecrets, SECRET_COLUMNS, SECRET_FIELDS, type SecretField, openSecrets, unreadableSecrets } from './relay-secrets.js';
import { RelayEntity, type Security } from './relay.entity.js';
import { RelayView } from './relay.view.js';
import { RELAYS_CHANNEL } from './relays-channel.js';
import { SECRET_BOX, SecretBox } from './secret-box.js';
import { DROPPED } from './secret-binding.js';

/** A stored secret as the start-up check names it: whose (the relay's key and address) and which. */
export interface SealedSecret {
  key: string;
  relay: string;
  field: SecretField;
}

/** A relay with its stored secrets opened: what a test email of that relay needs. */
export interface OpenedRelay {
  row: RelayEntity;
  opened: OpenedSecrets;
}

type Described = Omit<RelayView, 'health'>;

const SHOWN_FIELDS = ['host', 'port', 'security', 'tlsVerify', 'authEnabled', 'username', 'priority', 'enabled'] as const;

/**
 * The relays mail goes through, all rows of one table: the primary (priority 0, changed through
 * the settings API: see PrimaryRelayService) and the backups, which this service adds, changes
 * and removes. A relay is listed once it has a host (a primary without one means direct
 * delivery). Every change goes to the event log (never a secret) and is announced on
 * postroom_relays, so every instance rebuilds its transport.
 */
@Injectable()
export class RelaysService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    private readonly health: RelayHealthService,
  ) {}

  /** Every relay in the order they are tried (the primary first when it has a host), with its health. */
  async list(): Promise<RelayView[]> {
    const described = (await this.relays()).map((r) => this.describe(r));
    const health = await this.health.read(described.map((r) => ({ key: r.id, relay: r.relay })));
    return described.map((r) => ({ ...r, health: health.get(r.id)! }));
  }

  /** One relay by its API id: 'primary' or a backup's number. */
  async get(id: string): Promise<RelayView> {
    const found = (await this.list()).find((r) => r.id === id);
    if (!found) throw notFound(id);
    return found;
  }

  /** The relays delivery uses, in priority order (disabled backups left out). */
  async deliveryRelays(): Promise<DeliveryRelay[]> {
    return (await this.relays()).filter((r) => r.enabled).map((r) => deliveryRelay(r, openSecrets(this.box, r)));
  }

  /** One listed relay (enabled or not) with its secrets opened, by its API id; 404 for any other. */
  async opened(id: string): Promise<OpenedRelay> {
    const row = (await this.relays()).find((r) => relayKey(r) === id);
    if (!row) throw notFound(id);
    return { row, opened: openSecrets(this.box, row) };
  }

  /** Adds a backup relay; 400 with one reason per field, and nothing saved, on any error. */
  async create(raw: unknown, actor: string): Promise<RelayView> {
    const body = bodyFields(raw);
    const parsed = relayCreateSchema.safeParse(body);
    if (!parsed.success) {
      const fields = relayFieldErrors(parsed.error);
      if (body.host === undefined) fields.host = 'is required: a host name or an IP address';
      throw invalid(fields);
    }
    const input = parsed.data;
    const saved = await sqlOf(this.db).transaction(async (tx) => {
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
        // XOAUTH2 is the primary's alone: a backup logs in with a password.
        authMethod: 'password',
        priority: input.priority ?? Math.min(1000, (top?.max ?? 0) + 1),
        enabled: input.enabled ?? true,
      });
      checkLogin(next);
      const saved = await repo.save(next);
      const shown = this.describe(saved);
      await this.record(tx, `Relay ${shown.relay} added by ${actor} (priority ${saved.priority})`, {
        actor,
        relayId: shown.id,
        relay: Object.fromEntries([...SHOWN_FIELDS.map((k) => [k, shown[k]]), ['passwordSet', shown.passwordSet]]),
      });
      return saved;
    });
    return this.get(String(saved.id));
  }

  /** Changes a backup relay (absent fields keep their value; an empty password keeps the stored one). */
  async update(id: string, raw: unknown, actor: string): Promise<RelayView> {
    const numeric = this.backupId(id, 'change');
    const parsed = relayUpdateSchema.safeParse(bodyFields(raw));
    if (!parsed.success) throw invalid(relayFieldErrors(parsed.error));
    const input: RelayInput = parsed.data;
    const result = await sqlOf(this.db).transaction(async (tx) => {
      const repo = tx.getRepository(RelayEntity);
      const current = await repo.findOne({ where: { id: numeric }, lock: { mode: 'pessimistic_write' } });
      if (!current || current.priority === 0) throw notFound(id);
      const next: RelayEntity = { ...current };
      const changed: string[] = [];
      for (const key of SHOWN_FIELDS) {
        const value = input[key];
        if (value === undefined || current[key] === value) continue;
        (next as unknown as Record<string, unknown>)[key] = value;
        changed.push(key);
      }
      const secrets = changeSecrets(this.box, current, next, { password: input.password });
      if (Object.keys(secrets.reenter).length) throw invalid(secrets.reenter);
      changed.push(...secrets.changed);
      checkLogin(next);
      if (changed.length === 0) return { saved: current, changed };
      const saved = await repo.save(next);
      const before = this.describe(current);
      const after = this.describe(saved);
      await this.record(tx, `Relay ${after.relay} changed by ${actor}: ${changed.join(', ')}`, {
        actor,
        relayId: after.id,
        changed: Object.fromEntries(
          changed.map((k) => [
            k,
            k === 'password' ? (secrets.dropped.includes('password') ? DROPPED('password') : '(changed)') : { from: before[k as (typeof SHOWN_FIELDS)[number]], to: after[k as (typeof SHOWN_FIELDS)[number]] },
          ]),
        ),
      });
      return { saved, changed };
    });
    return this.get(String(result.saved.id));
  }

  /**
   * New priorities for several backups at once (the dashboard's move up / down): in one
   * transaction with one event, so the order is never half changed; NotFound when one of them
   * is gone, and then nothing changes.
   */
  async reprioritise(priorities: ReadonlyMap<string, number>, actor: string): Promise<void> {
    if (priorities.size === 0) return;
    const wanted = [...priorities].map(([id, priority]) => ({ id: this.backupId(id, 'change'), key: id, priority }));
    for (const w of wanted) {
      const parsed = relayUpdateSchema.safeParse({ priority: w.priority });
      if (!parsed.success) throw invalid(relayFieldErrors(parsed.error));
    }
    await sqlOf(this.db).transaction(async (tx) => {
      const repo = tx.getRepository(RelayEntity);
      const changes: Record<string, { from: number; to: number }> = {};
      for (const w of wanted) {
        const current = await repo.findOne({ where: { id: w.id }, lock: { mode: 'pessimistic_write' } });
        if (!current || current.priority === 0) throw notFound(w.key);
        if (current.priority === w.priority) continue;
        await repo.update({ id: w.id }, { priority: w.priority });
        changes[relayAddress(current.host, current.port, current.security)] = { from: current.priority, to: w.priority };
      }
      if (Object.keys(changes).length === 0) return;
      await this.record(tx, `Relay order changed by ${actor}: ${Object.entries(changes).map(([relay, c]) => `${relay} ${c.from} → ${c.to}`).join(', ')}`, { actor, priorities: changes });
    });
  }

  /** Removes a backup relay (and its health). */
  async remove(id: string, actor: string): Promise<{ deleted: string }> {
    const numeric = this.backupId(id, 'remove');
    await sqlOf(this.db).transaction(async (tx) => {
      const [gone] = await queryRows<{ host: string; port: number | null; security: Security }>(tx, `DELETE FROM relay WHERE id = $1 AND priority > 0 RETURNING host, port, security`, [numeric]);
      if (!gone) throw notFound(id);
      await tx.query(`DELETE FROM relay_health WHERE relay_key = $1`, [String(numeric)]);
      const relay = relayAddress(gone.host, gone.port, gone.security);
      await this.record(tx, `Relay ${relay} removed by ${actor}`, { actor, relayId: String(numeric), relay });
    });
    await this.health.forget(String(numeric)).catch(() => undefined);
    return { deleted: String(numeric) };
  }

  /**
   * At start-up: re-seals under the current key, in the caller's transaction, the stored secrets
   * that only the legacy key opens, and names those that no key opens.
   */
  async checkSealed(tx: EntityManager): Promise<{ resealed: SealedSecret[]; unreadable: SealedSecret[] }> {
    const repo = tx.getRepository(RelayEntity);
    const found = { resealed: [] as SealedSecret[], unreadable: [] as SealedSecret[] };
    for (const r of await repo.find({ order: { priority: 'ASC', id: 'ASC' }, lock: { mode: 'pessimistic_write' } })) {
      const resealed: Partial<Pick<RelayEntity, (typeof SECRET_COLUMNS)[SecretField]>> = {};
      for (const field of SECRET_FIELDS) {
        const sealed = r[SECRET_COLUMNS[field]];
        if (sealed === null) continue;
        const state = this.box.check(sealed);
        const named = { key: relayKey(r), relay: relayAddress(r.host, r.port, r.security), field };
        if (state === 'unreadable') found.unreadable.push(named);
        if (state !== 'legacy') continue;
        resealed[SECRET_COLUMNS[field]] = this.box.seal(this.box.open(sealed));
        found.resealed.push(named);
      }
      // Re-sealing changes nothing the operator set: updated_at keeps its time.
      if (Object.keys(resealed).length) await repo.update({ id: r.id }, { ...resealed, updatedAt: r.updatedAt });
    }
    return found;
  }

  /** The relays there are, in priority order: the primary is one once it has a host. */
  private async relays(): Promise<RelayEntity[]> {
    const rows = await this.db.getRepository(RelayEntity).find({ order: { priority: 'ASC', id: 'ASC' } });
    return rows.filter((r) => r.host !== '');
  }

  private describe(r: RelayEntity): Described {
    return {
      id: relayKey(r),
      primary: r.priority === 0,
      host: r.host,
      port: r.port,
      effectivePort: effectivePort(r.port, r.security),
      relay: relayAddress(r.host, r.port, r.security),
      security: r.security,
      tlsVerify: r.tlsVerify,
      authEnabled: r.authEnabled,
      username: r.username,
      passwordSet: r.passwordSealed !== null,
      secretsUnreadable: unreadableSecrets(this.box, r),
      priority: r.priority,
      enabled: r.enabled,
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }

  private backupId(id: string, what: string): number {
    if (id === PRIMARY_KEY) {
      throw new Conflict(
        `The primary relay is the one of the settings: ${what} it with PUT /api/v1/settings (relayHost, relayPort, security, tlsVerify, authEnabled, username, password)`,
      );
    }
    const n = rowId(id);
    if (n === undefined) throw notFound(id);
    return n;
  }

  private async record(tx: EntityManager, message: string, details: Record<string, unknown>): Promise<void> {
    await this.events.record({ level: 'info', source: 'settings', message, details }, tx);
    // Every instance rebuilds its transport: this one right after COMMIT, the others by NOTIFY.
    await this.notifier.notify(RELAYS_CHANNEL, tx);
  }
}

/** A backup's login: what it is missing makes a 400 (nothing saved). */
function checkLogin(r: RelayEntity): void {
  const problems = loginProblems(r);
  if (Object.keys(problems).length) throw invalid(problems);
}


function invalid(fields: Record<string, string>): InvalidInput {
  return new InvalidInput('Invalid relay: nothing was saved', fields);
}

function notFound(id: string): NotFound {
  return new NotFound(`No relay ${id}`);
}
