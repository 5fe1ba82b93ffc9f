import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Conflict, InvalidInput, NotFound } from '../common/domain-errors.js';
import { bodyFields, rowId } from '../common/api-input.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { Conn, Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { SECRET_BOX, SecretBox } from '../relays/secret-box.js';
import { type ChannelInput, channelCreateSchema, channelFieldErrors, channelUpdateSchema, typeProblems } from './channel-input.js';
import type { ChannelTarget } from './channel-request.js';
import { type ChannelSecrets, channelTarget, openChannelSecrets, sameDestination, sealChannelSecrets, urlHint } from './channel-secrets.js';
import { ChannelEntity } from './channel.entity.js';
import type { ChannelHealth, ChannelView } from './channel.view.js';

/** A channel as delivery uses it: undefined `target` when it is disabled or its secrets do not open. */
export interface DeliveryChannel {
  id: number;
  name: string;
  enabled: boolean;
  target?: ChannelTarget;
}

const SECRET_KEYS = ['token', 'topic', 'headers'] as const;

/**
 * The notification channels: added, changed and removed with one event each (never a secret),
 * announced on postroom_routing so every instance's rules see the change. A channel that a rule
 * sends to cannot be removed (409 naming the rules).
 */
@Injectable()
export class ChannelsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: Sql,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
  ) {}

  async list(): Promise<ChannelView[]> {
    const rows = await this.repo().find({ order: { id: 'ASC' } });
    return rows.map((r) => this.describe(r));
  }

  async get(id: string): Promise<ChannelView> {
    return this.describe(await this.row(id));
  }

  /** Channels by id as delivery needs them (missing ids are absent from the map). */
  async forDelivery(ids: number[]): Promise<Map<number, DeliveryChannel>> {
    const rows = ids.length ? await this.repo().findBy({ id: In(ids) }) : [];
    return new Map(
      rows.map((r) => {
        const secrets = r.enabled ? openChannelSecrets(this.box, r) : undefined;
        return [r.id, { id: r.id, name: r.name, enabled: r.enabled, target: secrets && channelTarget(r, secrets) }];
      }),
    );
  }

  /** One channel (enabled or not) with its secrets opened, for its test; 404 for any other, 400 when its secrets do not open. */
  async target(id: string): Promise<{ name: string; target: ChannelTarget }> {
    const row = await this.row(id);
    const secrets = openChannelSecrets(this.box, row);
    if (!secrets) throw new InvalidInput('The channel cannot be tested', { url: UNREADABLE });
    return { name: row.name, target: channelTarget(row, secrets) };
  }

  async create(raw: unknown, actor: string): Promise<ChannelView> {
    const body = bodyFields(raw);
    const parsed = channelCreateSchema.safeParse(body);
    if (!parsed.success) {
      const fields = channelFieldErrors(parsed.error);
      for (const key of ['type', 'name', 'url'] as const) if (body[key] === undefined) fields[key] = `is required`;
      throw invalid(fields);
    }
    const input = parsed.data;
    const problems = typeProblems(input.type, input);
    if (Object.keys(problems).length) throw invalid(problems);
    const secrets: ChannelSecrets = { url: input.url, ...(defined({ token: input.token, topic: input.topic, headers: input.headers }) as Omit<ChannelSecrets, 'url'>) };
    const saved = await this.sql.transaction(async (tx) => {
      await this.uniqueName(tx, input.name);
      const repo = tx.getRepository(ChannelEntity);
      const row = await repo.save(
        repo.create({
          name: input.name,
          type: input.type,
          enabled: input.enabled ?? true,
          urlHint: urlHint(input.url),
          secretsSealed: sealChannelSecrets(this.box, secrets),
          options: input.template?.trim() ? { template: input.template } : {},
        }),
      );
      await this.record(tx, `Channel ${row.name} (${row.type}) added by ${actor}`, { actor, channelId: String(row.id), channel: this.shown(this.describe(row)) });
      return row;
    });
    return this.describe(saved);
  }

  /** Changes a channel: absent fields keep their value; a secret is replaced or (null) cleared, never shown. */
  async update(id: string, raw: unknown, actor: string): Promise<ChannelView> {
    const parsed = channelUpdateSchema.safeParse(bodyFields(raw));
    if (!parsed.success) throw invalid(channelFieldErrors(parsed.error));
    const input = parsed.data;
    const saved = await this.sql.transaction(async (tx) => {
      const repo = tx.getRepository(ChannelEntity);
      const current = await repo.findOne({ where: { id: numericId(id) }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw notFound(id);
      if (input.type !== undefined && input.type !== current.type) throw invalid({ type: `cannot change (a ${current.type} channel): add a new channel instead` });
      const stored = openChannelSecrets(this.box, current);
      if (!stored && input.url === undefined) throw invalid({ url: UNREADABLE });
      const before: ChannelSecrets = stored ?? { url: input.url! };
      const problems = typeProblems(current.type, input, new Set(SECRET_KEYS.filter((k) => before[k] !== undefined)));
      const next = nextSecrets(before, input, problems);
      if (Object.keys(problems).length) throw invalid(problems);
      if (input.name !== undefined && input.name.toLowerCase() !== current.name.toLowerCase()) await this.uniqueName(tx, input.name);
      const changed = changedFields(current, before, next, input);
      if (!changed.length) return current;
      const row = await repo.save({
        ...current,
        name: input.name ?? current.name,
        enabled: input.enabled ?? current.enabled,
        urlHint: urlHint(next.url),
        secretsSealed: sealChannelSecrets(this.box, next),
        options: input.template === undefined ? current.options : input.template.trim() ? { template: input.template } : {},
      });
      await this.record(tx, `Channel ${row.name} changed by ${actor}: ${changed.join(', ')}`, { actor, channelId: String(row.id), changed });
      return row;
    });
    return this.describe(saved);
  }

  /** Removes a channel; 409 while a rule sends to it. */
  async remove(id: string, actor: string): Promise<{ deleted: string }> {
    const numeric = numericId(id);
    await this.sql.transaction(async (tx) => {
      const users = await this.sql.rows<{ name: string }>(`SELECT name FROM rule WHERE $1 = ANY(channels) ORDER BY position, id`, [numeric], tx);
      if (users.length) throw new Conflict(`Channel ${id} is used by the rule${users.length > 1 ? 's' : ''} ${users.map((u) => u.name).join(', ')}: take it out of them first`);
      const [gone] = await this.sql.rows<{ name: string; type: string }>(`DELETE FROM channel WHERE id = $1 RETURNING name, type`, [numeric], tx);
      if (!gone) throw notFound(id);
      await this.record(tx, `Channel ${gone.name} (${gone.type}) removed by ${actor}`, { actor, channelId: String(numeric) });
    });
    return { deleted: String(numeric) };
  }

  /** What a delivery to a channel came to (ChannelDelivery), for its health; an update of at most one row, after the post. */
  async delivered(id: number, ok: boolean, reason: string): Promise<void> {
    await this.sql.rows(
      ok
        ? `UPDATE channel SET last_success_at = now() WHERE id = $1`
        : `UPDATE channel SET last_failure_at = now(), last_failure_reason = left($2, 1000) WHERE id = $1`,
      ok ? [id] : [id, reason],
    );
  }

  /** The ids of `ids` that are not channels, for a rule's validation. */
  async unknownIds(ids: number[], tx?: Conn): Promise<number[]> {
    const rows = await this.sql.rows<{ id: number }>(`SELECT id FROM channel WHERE id = ANY($1::int[])`, [ids], tx);
    const known = new Set(rows.map((r) => r.id));
    return ids.filter((i) => !known.has(i));
  }

  /** Names of channels by id, for the rules' views. */
  async names(): Promise<Map<number, string>> {
    const rows = await this.sql.rows<{ id: number; name: string }>(`SELECT id, name FROM channel`);
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  private repo() {
    return this.db.getRepository(ChannelEntity);
  }

  private async row(id: string): Promise<ChannelEntity> {
    const row = await this.repo().findOneBy({ id: numericId(id) });
    if (!row) throw notFound(id);
    return row;
  }

  private async uniqueName(tx: Conn, name: string): Promise<void> {
    await tx.query(`LOCK TABLE channel IN SHARE ROW EXCLUSIVE MODE`);
    const [taken] = await this.sql.rows(`SELECT 1 FROM channel WHERE lower(name) = lower($1)`, [name], tx);
    if (taken) throw invalid({ name: 'is taken by another channel' });
  }

  private describe(r: ChannelEntity): ChannelView {
    const secrets = openChannelSecrets(this.box, r);
    return {
      id: String(r.id),
      name: r.name,
      type: r.type,
      enabled: r.enabled,
      url: r.urlHint,
      tokenSet: secrets?.token !== undefined,
      topicSet: secrets?.topic !== undefined,
      headers: Object.keys(secrets?.headers ?? {}),
      template: r.options.template ?? null,
      secretsUnreadable: secrets === undefined,
      health: healthOf(r),
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }

  private shown(v: ChannelView): Record<string, unknown> {
    return { name: v.name, type: v.type, enabled: v.enabled, url: v.url, tokenSet: v.tokenSet, topicSet: v.topicSet, headers: v.headers, template: v.template !== null };
  }

  private async record(tx: Conn, message: string, details: Record<string, unknown>): Promise<void> {
    await this.events.record({ level: 'info', source: 'settings', message, details }, tx);
    await this.notifier.notify('postroom_routing', tx);
  }
}

function healthOf(r: ChannelEntity): ChannelHealth {
  const ok = r.lastSuccessAt ? new Date(r.lastSuccessAt).getTime() : 0;
  const failed = r.lastFailureAt ? new Date(r.lastFailureAt).getTime() : 0;
  return {
    status: !ok && !failed ? 'unknown' : failed > ok ? 'failing' : 'healthy',
    lastSuccessAt: r.lastSuccessAt ? new Date(r.lastSuccessAt).toISOString() : null,
    lastFailureAt: r.lastFailureAt ? new Date(r.lastFailureAt).toISOString() : null,
    lastFailureReason: r.lastFailureReason,
  };
}

const UNREADABLE = 'the stored URL and secrets cannot be decrypted with this SECRET_KEY: enter the URL (and token) again';

/**
 * The secrets after a change: given ones replace, null clears, absent keeps — but a kept token,
 * topic or header values never follow the URL to another origin: they must be given again
 * (a reason is added to `problems`).
 */
function nextSecrets(before: ChannelSecrets, input: ChannelInput, problems: Record<string, string>): ChannelSecrets {
  const url = input.url ?? before.url;
  const moved = !sameDestination(before.url, url);
  const next: ChannelSecrets = { url };
  for (const key of SECRET_KEYS) {
    const given = input[key];
    if (given === null) continue;
    if (given !== undefined) {
      (next as unknown as Record<string, unknown>)[key] = given;
      continue;
    }
    if (before[key] === undefined) continue;
    if (moved) problems[key] ??= 'was saved for another URL origin: enter it again for the new URL';
    else (next as unknown as Record<string, unknown>)[key] = before[key];
  }
  return next;
}

/** The names of what a change changes (secrets named, never shown). */
function changedFields(current: ChannelEntity, before: ChannelSecrets, next: ChannelSecrets, input: ChannelInput): string[] {
  const changed: string[] = [];
  if (input.name !== undefined && input.name !== current.name) changed.push('name');
  if (input.enabled !== undefined && input.enabled !== current.enabled) changed.push('enabled');
  if (next.url !== before.url) changed.push('url');
  for (const key of SECRET_KEYS) if (JSON.stringify(next[key]) !== JSON.stringify(before[key])) changed.push(key);
  if (input.template !== undefined && (input.template.trim() ? input.template : undefined) !== current.options.template) changed.push('template');
  return changed;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}



const invalid = (fields: Record<string, string>) => new InvalidInput('Invalid channel: nothing was saved', fields);
const notFound = (id: string) => new NotFound(`No channel ${id}`);

function numericId(id: string): number {
  const n = rowId(id);
  if (n === undefined) throw notFound(id);
  return n;
}
