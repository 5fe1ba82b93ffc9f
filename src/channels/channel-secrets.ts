import type { SecretBox } from '../relays/secret-box.js';
import type { ChannelEntity } from './channel.entity.js';
import type { ChannelTarget } from './channel-request.js';

/** Everything of a channel that is sealed: what would let someone post as the appliance. */
export interface ChannelSecrets {
  url: string;
  token?: string;
  topic?: string;
  headers?: Record<string, string>;
}

/** The stored secrets in clear, or undefined when this SECRET_KEY cannot open them. */
export function openChannelSecrets(box: SecretBox, row: ChannelEntity): ChannelSecrets | undefined {
  const clear = box.tryOpen(row.secretsSealed);
  return clear === undefined ? undefined : (JSON.parse(clear) as ChannelSecrets);
}

export const sealChannelSecrets = (box: SecretBox, s: ChannelSecrets): string => box.seal(JSON.stringify(s));

/** What a channel's URL shows: its origin only (the path of a Slack or Discord URL is the key). */
export function urlHint(url: string): string {
  const u = new URL(url);
  return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
}

/** Where a channel's secrets go: a token or header values saved for one origin never go to another without being typed again. */
export const sameDestination = (a: string, b: string): boolean => new URL(a).origin === new URL(b).origin;

/** A channel as delivery needs it. */
export function channelTarget(row: ChannelEntity, s: ChannelSecrets): ChannelTarget {
  return { type: row.type, url: s.url, token: s.token, topic: s.topic, headers: s.headers, template: row.options.template };
}
