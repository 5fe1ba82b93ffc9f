import type { QueueAction } from './queue.repository.js';

/**
 * The details of the event that an action on chosen messages writes: an operator's flush, hold,
 * release or delete (QueueService), or Postroom's own release of mail for local names
 * (LocalMailService), typed so that every writer gives the same shape to whoever reads the
 * event log (the API, the Logs page). (A whole-queue flush or delete writes its own details:
 * the actor and the count, no action.)
 */
export interface QueueActionDetails {
  action: QueueAction;
  /** How many messages it changed. */
  count: number;
  /** Who asked; absent when Postroom did it (a release once an admin address or an alias is set). */
  actor?: string;
  /** The message, for an action on one. */
  id?: string;
  /** The messages, for an action on several. */
  ids?: string[];
  /** The hold reason of the messages Postroom released. */
  reason?: string;
}
