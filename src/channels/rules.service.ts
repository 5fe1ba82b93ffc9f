import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { channelRecipient } from '../common/channel-recipient.js';
import { InvalidInput, NotFound } from '../common/domain-errors.js';
import type { EscalationStep } from '../common/escalation.js';
import { bodyFields, rowId } from '../common/api-input.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { Conn, Sql } from '../database/sql.js';
import { EventLogService } from '../events/event-log.service.js';
import { ChannelsService } from './channels.service.js';
import { type RuleInput, ruleCreateSchema, ruleFieldErrors, ruleUpdateSchema } from './rule-input.js';
import { type CompiledMatch, type MatchFacts, compileMatch } from './rule-match.js';
import { RuleEntity } from './rule.entity.js';
import type { RuleView } from './rule.view.js';

/** What the rules make of one message at intake: channel recipients to add now, and the escalation to keep. */
export interface Routing {
  recipients: string[];
  escalation: EscalationStep[];
}

interface LiveRule {
  name: string;
  match: CompiledMatch;
  channels: number[];
  when: RuleEntity['when'];
  afterMinutes: number;
}

/** A rule's fields besides its position, as stored. */
const RULE_FIELDS = ['name', 'enabled', 'match', 'channels', 'when', 'afterMinutes'] as const;

const NO_ROUTING: Routing = { recipients: [], escalation: [] };

/**
 * The routing rules: kept in order (`position`, 1 = first), changed with one event each, and
 * evaluated at intake from a compiled copy that every instance drops when postroom_routing
 * announces a change of a rule or a channel.
 */
@Injectable()
export class RulesService {
  private live?: Promise<LiveRule[]>;
  private readonly log: Logger;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: Sql,
    private readonly channels: ChannelsService,
    private readonly events: EventLogService,
    private readonly notifier: PgNotifier,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'rules' });
    notifier.on('postroom_routing', () => (this.live = undefined));
  }

  /**
   * Every enabled rule that matches, in order: `always` rules' enabled channels as recipients
   * now, `undelivered` rules' as escalation steps. A message no rule matches is routed as mail only.
   */
  async route(facts: MatchFacts): Promise<Routing> {
    const rules = await this.rules();
    if (!rules.length) return NO_ROUTING;
    const now = new Set<number>();
    const escalation: EscalationStep[] = [];
    for (const r of rules) {
      if (!r.match.test(facts)) continue;
      if (r.when === 'always') r.channels.forEach((c) => now.add(c));
      else escalation.push({ channels: r.channels, afterMinutes: r.afterMinutes, rule: r.name });
    }
    // A channel that gets the alert at once gets it once: an `undelivered` step leaves it out (and goes when it names no other).
    const steps = escalation.map((s) => ({ ...s, channels: s.channels.filter((c) => !now.has(c)) })).filter((s) => s.channels.length > 0);
    return { recipients: [...now].map(channelRecipient), escalation: steps };
  }

  /** The channels of the enabled `undelivered` rules (enabled channels only): where the queue-age alarm goes. */
  async undeliveredChannels(): Promise<string[]> {
    const rules = await this.rules();
    return [...new Set(rules.filter((r) => r.when === 'undelivered').flatMap((r) => r.channels))].map(channelRecipient);
  }

  async list(): Promise<RuleView[]> {
    const rows = await this.db.getRepository(RuleEntity).find({ order: { position: 'ASC', id: 'ASC' } });
    const names = await this.channels.names();
    return rows.map((r) => describe(r, names));
  }

  async get(id: string): Promise<RuleView> {
    const found = (await this.list()).find((r) => r.id === id);
    if (!found) throw notFound(id);
    return found;
  }

  async create(raw: unknown, actor: string): Promise<RuleView> {
    const body = bodyFields(raw);
    const parsed = ruleCreateSchema.safeParse(body);
    if (!parsed.success) {
      const fields = ruleFieldErrors(parsed.error);
      for (const key of ['name', 'channels', 'when'] as const) if (body[key] === undefined) fields[key] = 'is required';
      throw invalid(fields);
    }
    const input = parsed.data;
    checkWhen(input.when, input.afterMinutes);
    const id = await this.sql.transaction(async (tx) => {
      await this.checkChannels(tx, input.channels);
      await tx.query(`LOCK TABLE rule IN SHARE ROW EXCLUSIVE MODE`);
      const [{ count }] = (await tx.query(`SELECT count(*)::int AS count FROM rule`)) as [{ count: number }];
      const repo = tx.getRepository(RuleEntity);
      const row = await repo.save(
        repo.create({ name: input.name, enabled: input.enabled ?? true, position: count + 1, match: input.match ?? {}, channels: input.channels, when: input.when, afterMinutes: input.afterMinutes ?? 0 }),
      );
      if (input.position !== undefined) await this.move(tx, row.id, input.position);
      await this.record(tx, `Rule ${row.name} added by ${actor}`, { actor, ruleId: String(row.id), rule: { ...input, position: input.position ?? count + 1 } });
      return row.id;
    });
    return this.get(String(id));
  }

  /** Changes a rule (absent fields keep their value); `position` moves it, the others close up. */
  async update(id: string, raw: unknown, actor: string): Promise<RuleView> {
    const parsed = ruleUpdateSchema.safeParse(bodyFields(raw));
    if (!parsed.success) throw invalid(ruleFieldErrors(parsed.error));
    const input: RuleInput = parsed.data;
    await this.sql.transaction(async (tx) => {
      const repo = tx.getRepository(RuleEntity);
      await tx.query(`LOCK TABLE rule IN SHARE ROW EXCLUSIVE MODE`);
      const current = await repo.findOne({ where: { id: numericId(id) } });
      if (!current) throw notFound(id);
      const next: RuleEntity = { ...current, ...definedOf(input, RULE_FIELDS) };
      if (input.when === 'always' && input.afterMinutes === undefined) next.afterMinutes = 0;
      checkWhen(next.when, next.afterMinutes);
      if (input.channels) await this.checkChannels(tx, input.channels);
      const changed: (keyof RuleInput)[] = RULE_FIELDS.filter((k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]));
      if (changed.length) await repo.save(next);
      if (input.position !== undefined && (await this.move(tx, current.id, input.position))) changed.push('position');
      if (changed.length) await this.record(tx, `Rule ${next.name} changed by ${actor}: ${changed.join(', ')}`, { actor, ruleId: id, changed: Object.fromEntries(changed.map((k) => [k, input[k]])) });
    });
    return this.get(id);
  }

  async remove(id: string, actor: string): Promise<{ deleted: string }> {
    await this.sql.transaction(async (tx) => {
      await tx.query(`LOCK TABLE rule IN SHARE ROW EXCLUSIVE MODE`);
      const [gone] = await this.sql.rows<{ name: string }>(`DELETE FROM rule WHERE id = $1 RETURNING name`, [numericId(id)], tx);
      if (!gone) throw notFound(id);
      await this.renumber(tx);
      await this.record(tx, `Rule ${gone.name} removed by ${actor}`, { actor, ruleId: id });
    });
    return { deleted: id };
  }

  /** The compiled rules, loaded once until postroom_routing says they changed. */
  private rules(): Promise<LiveRule[]> {
    return (this.live ??= this.load().catch((err: unknown) => {
      this.live = undefined;
      throw err;
    }));
  }

  private async load(): Promise<LiveRule[]> {
    const rows = await this.sql.rows<{ name: string; match: RuleEntity['match']; channels: number[]; when: RuleEntity['when']; after_minutes: number }>(
      `SELECT r.name, r.match, r.when, r.after_minutes,
              ARRAY(SELECT c.id FROM channel c WHERE c.id = ANY(r.channels) AND c.enabled ORDER BY c.id) AS channels
         FROM rule r WHERE r.enabled ORDER BY r.position, r.id`,
    );
    return rows.flatMap((r) => {
      if (!r.channels.length) return [];
      try {
        return [{ name: r.name, match: compileMatch(r.match), channels: r.channels, when: r.when, afterMinutes: r.after_minutes }];
      } catch (err) {
        // Saved through validation, so only a row changed behind the API's back: that rule is left out, not all routing.
        this.log.error({ err, rule: r.name }, 'routing rule left out: its match does not compile');
        return [];
      }
    });
  }

  /** Puts a rule at `position` (past the end: last) and numbers the rest 1, 2, …; true when it moved. */
  private async move(tx: Conn, id: number, position: number): Promise<boolean> {
    const ids = (await this.sql.rows<{ id: number }>(`SELECT id FROM rule ORDER BY position, id`, [], tx)).map((r) => r.id);
    const from = ids.indexOf(id);
    const to = Math.min(position, ids.length) - 1;
    if (from === to) return false;
    ids.splice(from, 1);
    ids.splice(to, 0, id);
    await this.sql.rows(`UPDATE rule SET position = o.n FROM unnest($1::int[]) WITH ORDINALITY AS o(id, n) WHERE rule.id = o.id AND rule.position <> o.n`, [ids], tx);
    return true;
  }

  private async renumber(tx: Conn): Promise<void> {
    await this.sql.rows(`UPDATE rule SET position = o.n FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n FROM rule) o WHERE rule.id = o.id AND rule.position <> o.n`, [], tx);
  }

  private async checkChannels(tx: Conn, ids: number[]): Promise<void> {
    const unknown = await this.channels.unknownIds(ids, tx);
    if (unknown.length) throw invalid({ channels: `no such channel: ${unknown.join(', ')}` });
  }

  private async record(tx: Conn, message: string, details: Record<string, unknown>): Promise<void> {
    await this.events.record({ level: 'info', source: 'settings', message, details }, tx);
    await this.notifier.notify('postroom_routing', tx);
  }
}

function describe(r: RuleEntity, names: Map<number, string>): RuleView {
  return {
    id: String(r.id),
    name: r.name,
    enabled: r.enabled,
    position: r.position,
    match: r.match,
    channels: r.channels.map(String),
    channelNames: r.channels.map((c) => names.get(c) ?? `(channel ${c} removed)`),
    when: r.when,
    afterMinutes: r.afterMinutes,
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

function checkWhen(when: RuleEntity['when'], afterMinutes: number | undefined): void {
  if (when === 'always' && afterMinutes) throw invalid({ afterMinutes: 'is only for when: undelivered' });
}

function definedOf<K extends keyof RuleInput>(input: RuleInput, keys: readonly K[]): Partial<Pick<RuleInput, K>> {
  return Object.fromEntries(keys.filter((k) => input[k] !== undefined).map((k) => [k, input[k]])) as Partial<Pick<RuleInput, K>>;
}



const invalid = (fields: Record<string, string>) => new InvalidInput('Invalid rule: nothing was saved', fields);
const notFound = (id: string) => new NotFound(`No rule ${id}`);

function numericId(id: string): number {
  const n = rowId(id);
  if (n === undefined) throw notFound(id);
  return n;
}
