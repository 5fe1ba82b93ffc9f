import type { ChannelType } from './channel-request.js';

/** A channel as the API and the dashboard show it: never a secret, only whether each is set. */
export interface ChannelView {
  id: string;
  name: string;
  type: ChannelType;
  enabled: boolean;
  /** The URL's origin ("https://hooks.slack.com/…"): the rest of it is write-only. */
  url: string;
  tokenSet: boolean;
  topicSet: boolean;
  /** webhook: the names of its extra headers (their values are write-only). */
  headers: string[];
  /** webhook: its body template; null = the default. */
  template: string | null;
  /** The stored secrets were sealed under another SECRET_KEY: enter the URL (and token) again. */
  secretsUnreadable: boolean;
  health: ChannelHealth;
  updatedAt: string;
}

/** How its latest deliveries went: failing when the latest refusal or silence came after the latest success. */
export interface ChannelHealth {
  status: 'healthy' | 'failing' | 'unknown';
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastFailureReason: string | null;
}
