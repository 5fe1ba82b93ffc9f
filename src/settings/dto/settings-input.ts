import { z } from 'zod';
import { isMailbox } from '../../common/address.js';
import { FieldErrors, fieldErrors } from '../../common/field-errors.js';
import type { Check } from '../field-checks.js';
import { type PresetField, type SettingsFieldSpec, type SettingsInput, VALUE_FIELDS, numberRange } from '../settings-fields.js';

/** A local name as an alias key: what comes before the @ of root@localhost, lower case. */
const ALIAS_NAME = /^[a-z0-9][a-z0-9._+-]{0,63}$/;
const MAX_ALIASES = 200;
const MAX_ALIAS_TARGETS = 20;

const notAName = (name: string) => `"${name}" is not a local name (lower-case letters, digits and . _ + -, such as root or backup)`;

/** Aliases: local name → the addresses its mail goes to (full addresses; not at this machine: settings.service.ts). */
const aliasesSchema = z
  .unknown()
  // A record would drop this key silently (it names the object's prototype); refused like any other non-name.
  .refine((v) => !(typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')), notAName('__proto__'))
  .pipe(z.record(z.string(), z.array(z.string({ error: 'must list addresses as text' }).trim(), { error: 'must map each name to a list of addresses' }), {
    error: 'must be an object of local names, each with a list of addresses',
  }))
  .superRefine((aliases, ctx) => {
    const names = Object.keys(aliases);
    if (names.length > MAX_ALIASES) ctx.addIssue({ code: 'custom', message: `has ${names.length} aliases (at most ${MAX_ALIASES})` });
    for (const [name, targets] of Object.entries(aliases)) {
      if (!ALIAS_NAME.test(name)) ctx.addIssue({ code: 'custom', message: notAName(name) });
      else if (targets.length === 0) ctx.addIssue({ code: 'custom', message: `"${name}" needs at least one address` });
      else if (targets.length > MAX_ALIAS_TARGETS) ctx.addIssue({ code: 'custom', message: `"${name}" has ${targets.length} addresses (at most ${MAX_ALIAS_TARGETS})` });
      else {
        // One at this machine is refused with the other settings it depends on (settings.service.ts, localTargetProblems).
        const bad = targets.find((t) => !isMailbox(t));
        if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `"${name}": "${bad}" is not a full address, such as ops@example.com` });
      }
    }
  })
  .transform((aliases) => Object.fromEntries(Object.entries(aliases).map(([name, targets]) => [name, [...new Set(targets)]])));

/** Text passing each check in order; a check's reason may depend on the value. */
function checked(schema: z.ZodString, checks: readonly Check[] = []): z.ZodType<string> {
  let out: z.ZodType<string> = schema;
  for (const c of checks) out = out.refine(c.test, typeof c.message === 'string' ? c.message : { error: (issue) => (c.message as (v: string) => string)(String(issue.input)) });
  return out;
}

const whole = (min: number, max: number, what: string) =>
  z.number({ error: `must be a whole number of ${what}` }).int(`must be a whole number of ${what}`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** The validation of one field, from its description. */
function fieldSchema(f: Exclude<SettingsFieldSpec, PresetField>): z.ZodType {
  switch (f.kind) {
    case 'text': {
      let text = z.string({ error: f.notText ?? 'must be text' });
      if (f.trim !== false) text = text.trim();
      if (f.max !== undefined) text = text.max(f.max, 'is too long');
      return checked(text, f.checks);
    }
    case 'number':
      return whole(f.min, f.max, `${f.unit} (${numberRange(f)})`);
    case 'port':
      return z.union([whole(1, 65535, 'port (1-65535)'), z.null()], { error: 'must be a port number (1-65535) or null for the default' });
    case 'flag':
      return z.boolean({ error: 'must be true or false' });
    case 'choice': {
      const values = f.choices.map((c) => c.value);
      return z.enum(values as [string, ...string[]], { error: `must be one of ${values.join(', ')}` });
    }
    case 'secret':
      return z.union([checked(z.string({ error: 'must be text' }).max(f.max, 'is too long'), f.checks), z.null()], { error: 'must be text (empty keeps the stored one) or null to clear it' });
    case 'aliases':
      return aliasesSchema;
  }
}

/** PUT /api/v1/settings: every field optional (what is absent keeps its value); an unknown one is an error. */
export const settingsInputSchema = z
  .object(Object.fromEntries(VALUE_FIELDS.map((f) => [f.name, fieldSchema(f)])))
  .partial()
  .strict() as unknown as z.ZodType<SettingsInput>;

/** One reason per settings field. */
export const settingsFieldErrors = (error: z.ZodError): FieldErrors => fieldErrors(error, { unknown: 'is not a setting' });
