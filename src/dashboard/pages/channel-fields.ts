/** How the Channels page shows a channel's type and its fields: labels, which fields a type has, what is set. */
import { typeProblems } from '../../channels/channel-input.js';
import { CHANNEL_TYPES, type ChannelType } from '../../channels/channel-request.js';
import type { ChannelView } from '../../channels/channel.view.js';

/** A channel's type as the pages name it. */
export const TYPE_LABELS: Record<ChannelType, string> = {
  webhook: 'Webhook',
  ntfy: 'ntfy',
  gotify: 'Gotify',
  slack: 'Slack',
  mattermost: 'Mattermost',
  discord: 'Discord',
  teams: 'Microsoft Teams',
};

/** The fields only some types have. */
type TypeField = 'token' | 'topic' | 'headers' | 'template';
const TYPE_FIELDS: readonly TypeField[] = ['token', 'topic', 'headers', 'template'];
const PROBE: Record<TypeField, unknown> = { token: 'x', topic: 'x', headers: {}, template: 'x' };

/**
 * The types that have each field and the types that need it, asked of the API's own check
 * (typeProblems) rather than written again here, so that the form shows the fields the service takes.
 */
const FIELD_TYPES = Object.fromEntries(
  TYPE_FIELDS.map((field) => [
    field,
    {
      has: CHANNEL_TYPES.filter((t) => typeProblems(t, { [field]: PROBE[field] })[field] === undefined),
      needs: CHANNEL_TYPES.filter((t) => typeProblems(t, {})[field] !== undefined),
    },
  ]),
) as Record<TypeField, { has: ChannelType[]; needs: ChannelType[] }>;

/** How a form shows a type field: whether at all, for which types (data-shown-for), required, with a clear box. */
export interface TypeFieldView {
  shown: boolean;
  shownFor: string;
  required: boolean;
  clearable: boolean;
}

/**
 * The type fields of the add form (`type` undefined: every field, each shown by app.js for its
 * types only) or of one channel's edit form (its type's fields only; a clear box where its type
 * can do without the value).
 */
export function typeFieldsView(type?: ChannelType): Record<TypeField, TypeFieldView> {
  return Object.fromEntries(
    TYPE_FIELDS.map((field) => {
      const { has, needs } = FIELD_TYPES[field];
      const shown = !type || has.includes(type);
      const required = !!type && needs.includes(type);
      return [field, { shown, shownFor: has.join(' '), required, clearable: !!type && shown && !required }];
    }),
  ) as Record<TypeField, TypeFieldView>;
}

/** One line of the list's "Secrets" cell: what is set, never a value; `warn` when it needs attention. */
export interface SecretLine {
  text: string;
  warn: boolean;
}

/** Whether each write-only value of a channel is set, for the fields its type has. */
export function secretLines(c: ChannelView): SecretLine[] {
  if (c.secretsUnreadable) return [{ text: 'stored URL and secrets unreadable: enter them again', warn: true }];
  const fields = typeFieldsView(c.type);
  const lines: SecretLine[] = [{ text: 'URL set', warn: false }];
  for (const key of ['token', 'topic'] as const) {
    if (!fields[key].shown) continue;
    const set = key === 'token' ? c.tokenSet : c.topicSet;
    lines.push({ text: set ? `${key} set` : `no ${key}${fields[key].required ? ' (required)' : ''}`, warn: !set && fields[key].required });
  }
  if (fields.headers.shown) lines.push({ text: c.headers.length ? `headers: ${c.headers.join(', ')}` : 'no extra headers', warn: false });
  return lines;
}

const URL_HINT =
  "Webhook: the URL the alert is posted to. ntfy, Gotify: the server's address, like https://ntfy.sh. Slack, Mattermost, Discord, Teams: the incoming webhook's URL. Stored encrypted: only its origin is shown again.";
const RETYPE = ' A URL typed before an error is not kept: type it again.';

/** The URL field's hint: what each type takes (adding), or what is stored (editing `c`); never the URL itself. */
export function urlHint(c: ChannelView | undefined, refused: boolean): string {
  const stored = c && (c.secretsUnreadable ? 'The stored URL cannot be read: enter it again.' : `Stored: ${c.url} (only its origin is shown). Empty keeps it.`);
  return `${stored ?? URL_HINT}${refused ? RETYPE : ''}`;
}

/** The extra headers' hint on an edit form: the stored names, never a value. */
export function storedHeadersHint(c: ChannelView): string {
  return `${c.headers.length ? `Stored: ${c.headers.join(', ')} (values never shown). Empty keeps them;` : 'None stored.'} one "Name: value" a line replaces them all. Values typed before an error are not kept.`;
}
