import type { Channel } from '../database/pg-notifier.js';

/** Announces a change of any relay (the primary too): every instance drops its cached primary and rebuilds its transport. */
export const RELAYS_CHANNEL = 'postroom_relays' satisfies Channel;
