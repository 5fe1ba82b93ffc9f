import type { RuleMatch } from '../../channels/rule-match.js';
import type { RuleView } from '../../channels/rule.view.js';
import type { FieldErrors } from '../../common/field-errors.js';
import { type FormBody, formChecked, formText, formWhole } from './form-body.js';

/** The conditions of a rule's match, in the order the forms and the list show them. */
export const CONDITIONS = ['sender', 'recipient', 'subject', 'severity', 'client'] as const;
type Condition = (typeof CONDITIONS)[number];

/** What a rule form shows: the values as typed (a rule has no secrets). */
export interface RuleForm extends Record<Condition, string> {
  name: string;
  enabled: boolean;
  channels: string[];
  when: string;
  afterMinutes: string;
}

export const EMPTY_RULE_FORM: RuleForm = { name: '', enabled: true, sender: '', recipient: '', subject: '', severity: '', client: '', channels: [], when: 'always', afterMinutes: '' };

/** The ticked boxes of a checkbox group: one value is a string, several a list. */
function ticked(body: FormBody, name: string): string[] {
  const v = body[name];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

export function ruleFormFromBody(body: FormBody): RuleForm {
  const form: RuleForm = {
    ...EMPTY_RULE_FORM,
    name: formText(body, 'name'),
    enabled: formChecked(body, 'enabled'),
    channels: ticked(body, 'channels'),
    when: formText(body, 'when'),
    afterMinutes: formText(body, 'afterMinutes'),
  };
  for (const c of CONDITIONS) {
    const v = body[c];
    form[c] = typeof v === 'string' ? v : '';
  }
  return form;
}

export function ruleFormFromView(r: RuleView): RuleForm {
  const form: RuleForm = { ...EMPTY_RULE_FORM, name: r.name, enabled: r.enabled, channels: r.channels, when: r.when, afterMinutes: r.when === 'undelivered' ? String(r.afterMinutes) : '' };
  for (const c of CONDITIONS) form[c] = r.match[c] ?? '';
  return form;
}

/**
 * The rule API's input from a form: the whole match (an empty field is no condition; patterns go
 * as typed), the ticked channels, and the minutes only for "if undelivered" (empty: 0), the
 * field that app.js hides for "always".
 */
export function ruleInput(body: FormBody): Record<string, unknown> {
  const form = ruleFormFromBody(body);
  const match = Object.fromEntries(CONDITIONS.filter((c) => form[c].trim() !== '').map((c) => [c, c === 'severity' || c === 'client' ? form[c].trim() : form[c]]));
  const input: Record<string, unknown> = { name: form.name, enabled: form.enabled, match, channels: form.channels, when: form.when };
  if (form.when === 'undelivered') input.afterMinutes = formWhole(body, 'afterMinutes', 0);
  return input;
}

/** The service's reasons under the form's field names: `match.subject` is the field `subject`. */
export function ruleFormErrors(fields: FieldErrors): FieldErrors {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.startsWith('match.') ? k.slice('match.'.length) : k, v]));
}

/** One condition of a match in words ("subject matches", "^disk"), for the list; `code` for a pattern or a network. */
export interface ConditionWords {
  words: string;
  value: string;
  code: boolean;
}

const CONDITION_WORDS: Record<Condition, string> = {
  sender: 'sender matches',
  recipient: 'a recipient matches',
  subject: 'subject matches',
  severity: 'severity ≥',
  client: 'client in',
};

/** A match in words, condition by condition; empty: every message. */
export function conditionsInWords(m: RuleMatch): ConditionWords[] {
  return CONDITIONS.filter((c) => m[c] !== undefined).map((c) => ({ words: CONDITION_WORDS[c], value: m[c]!, code: c !== 'severity' }));
}

/** When a rule sends: "always", "if undelivered after 30 min", or "if undelivered" (at the first failed attempt). */
export function whenInWords(r: Pick<RuleView, 'when' | 'afterMinutes'>): string {
  if (r.when === 'always') return 'always';
  return r.afterMinutes ? `if undelivered after ${r.afterMinutes} min` : 'if undelivered';
}
