import { z } from 'zod';
import { hasLineBreak } from '../common/address.js';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from '../common/control-characters.js';
import { fieldErrors } from '../common/field-errors.js';
import { CHANNEL_TYPES, type ChannelType, templateProblem } from './channel-request.js';

const bool = z.boolean({ error: 'must be true or false' });
const line = (what: string, max: number) =>
  z
    .string({ error: `must be ${what}` })
    .max(max, `is too long (at most ${max} characters)`)
    .refine((v) => !hasLineBreak(v), 'must not contain line breaks')
    .refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON);
/** An HTTP header carries Latin-1 only (fetch refuses the request otherwise, and every post would fail). */
const LATIN1 = /^[\u0000-\u00ff]*$/;
const headerText = (what: string, max: number) => line(what, max).refine((v) => LATIN1.test(v), 'must be Latin-1 text (an HTTP header cannot carry other characters)');
/** A secret: null clears it; on a change, absent keeps the stored one. */
const secret = (what: string, max: number, inHeader = false) =>
  z.union([(inHeader ? headerText(what, max) : line(what, max)).refine((v) => v.trim() !== '', `must not be empty (null clears it)`), z.null()], { error: `must be ${what} or null to clear it` });

/** RFC 9110 token characters of a header name; names the request itself sets are refused. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

const url = z
  .string({ error: 'must be an http:// or https:// URL' })
  .trim()
  .min(1, 'is required: the http:// or https:// URL to post to')
  .max(2048, 'is too long (at most 2048 characters)')
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const fields = {
  type: z.enum(CHANNEL_TYPES, { error: `must be one of ${CHANNEL_TYPES.join(', ')}` }),
  name: line('text', 100).trim().min(1, 'is required: a name to know the channel by'),
  url,
  enabled: bool,
  token: secret('a token', 1024, true),
  topic: secret('a topic name', 256),
  headers: z
    .record(z.string(), headerText('text', 4096), { error: 'must be an object of header names and values' })
    .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
    .superRefine((h, ctx) => {
      for (const name of Object.keys(h)) {
        if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name.slice(0, 40)}" is not a header name` });
        else if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', message: `${name} is set by the request itself` });
      }
    }),
  template: z
    .string({ error: 'must be text' })
    .max(20_000, 'is too long (at most 20,000 characters)')
    .superRefine((t, ctx) => {
      const problem = t.trim() === '' ? undefined : templateProblem(t);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
};

export const channelUpdateSchema = z.object(fields).partial().strict();
export const channelCreateSchema = channelUpdateSchema.required({ type: true, name: true, url: true });
export type ChannelInput = z.infer<typeof channelUpdateSchema>;

/** The fields only some types have, and which of them a type needs. */
const TYPE_FIELDS: Record<ChannelType, { has: (keyof ChannelInput)[]; needs: (keyof ChannelInput)[] }> = {
  webhook: { has: ['headers', 'template'], needs: [] },
  ntfy: { has: ['token', 'topic'], needs: ['topic'] },
  gotify: { has: ['token'], needs: ['token'] },
  slack: { has: [], needs: [] },
  mattermost: { has: [], needs: [] },
  discord: { has: [], needs: [] },
  teams: { has: [], needs: [] },
};
const OPTIONAL = ['token', 'topic', 'headers', 'template'] as const;

/**
 * What a channel of `type` may not have or still lacks once `input` is applied to what is
 * stored (`stored`: the optional fields it already has set).
 */
export function typeProblems(type: ChannelType, input: ChannelInput, stored: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  const spec = TYPE_FIELDS[type];
  for (const key of OPTIONAL) {
    if (input[key] !== undefined && input[key] !== null && !spec.has.includes(key)) out[key] = `is not a field of a ${type} channel`;
  }
  for (const key of spec.needs) {
    const given = input[key];
    if (given === null || (given === undefined && !stored.has(key))) out[key] = `is required for a ${type} channel`;
  }
  return out;
}

export const channelFieldErrors = (error: z.ZodError): Record<string, string> => fieldErrors(error, { unknown: 'is not a channel field', root: 'must be a JSON object' });
