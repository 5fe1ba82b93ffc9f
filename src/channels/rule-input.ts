import { z } from 'zod';
import { hasLineBreak } from '../common/address.js';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from '../common/control-characters.js';
import { fieldErrors } from '../common/field-errors.js';
import { SEVERITIES } from '../common/severity.js';
import { matchProblems } from './rule-match.js';
import { RULE_WHEN } from './rule.entity.js';

const CHANNEL_ID = 'must be a list of channel ids (at least one)';
const pattern = z.string({ error: 'must be a regular expression' }).min(1, 'must not be empty (leave it out to match anything)');

const match = z
  .object({
    sender: pattern,
    recipient: pattern,
    subject: pattern,
    severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')} (the least severity that matches)` }),
    client: z.string({ error: 'must be a network such as 192.168.1.0/24 or an address' }),
  })
  .partial()
  .strict()
  .superRefine((m, ctx) => {
    for (const [field, message] of Object.entries(matchProblems(m))) ctx.addIssue({ code: 'custom', path: [field], message });
  });

/** The largest id a channel can have (PostgreSQL's integer): a larger one names no channel. */
const MAX_ID = 2_147_483_647;

const fields = {
  name: z
    .string({ error: 'must be text' })
    .trim()
    .min(1, 'is required: a name to know the rule by')
    .max(100, 'is too long (at most 100 characters)')
    .refine((v) => !hasLineBreak(v), 'must not contain line breaks')
    .refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON),
  enabled: z.boolean({ error: 'must be true or false' }),
  match,
  channels: z
    .array(z.union([z.number().int(CHANNEL_ID).positive(CHANNEL_ID), z.string().regex(/^[1-9]\d{0,9}$/, CHANNEL_ID).transform(Number)]).pipe(z.number().max(MAX_ID, CHANNEL_ID)), { error: CHANNEL_ID })
    .min(1, CHANNEL_ID)
    .max(20, 'at most 20 channels')
    .transform((ids) => [...new Set(ids)]),
  when: z.enum(RULE_WHEN, { error: 'must be always (a copy beside the mail) or undelivered (when mail cannot deliver it)' }),
  afterMinutes: z.number({ error: 'must be a whole number of minutes (0-10080)' }).int('must be a whole number of minutes (0-10080)').min(0, 'must be at least 0').max(10_080, 'must be at most 10080 (a week)'),
  position: z.number({ error: 'must be a whole number (1 = first)' }).int('must be a whole number (1 = first)').min(1, 'must be at least 1 (the first rule)'),
};

export const ruleUpdateSchema = z.object(fields).partial().strict();
export const ruleCreateSchema = ruleUpdateSchema.required({ name: true, channels: true, when: true });
export type RuleInput = z.infer<typeof ruleUpdateSchema>;

/** One reason per field; a reason about one condition of `match` is named `match.<field>`. */
export function ruleFieldErrors(error: z.ZodError): Record<string, string> {
  const inMatch = error.issues.filter((i) => i.path[0] === 'match');
  const out = fieldErrors(new z.ZodError(error.issues.filter((i) => i.path[0] !== 'match')), { unknown: 'is not a rule field', root: 'must be a JSON object' });
  for (const issue of inMatch) {
    const unknown = issue.code === 'unrecognized_keys';
    const keys = unknown ? issue.keys.map((k) => `match.${k}`) : [issue.path.length > 1 ? `match.${String(issue.path[1])}` : 'match'];
    for (const k of keys) out[k] ??= unknown ? 'is not a condition (sender, recipient, subject, severity, client)' : issue.message;
  }
  return out;
}
