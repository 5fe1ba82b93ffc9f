import type { ClaimedMessage } from './queue.repository.js';

/**
 * A delivery worker in this process that takes new messages straight from intake: they are
 * committed already claimed under its lease ('sending') and handed over in memory, so they
 * need no NOTIFY, no claim and no second read of their bodies. What it does not take is
 * committed 'queued' and claimed as usual, by this instance or another.
 */
export interface Dispatcher {
  readonly owner: string;
  readonly leaseSeconds: number;
  /** How many of `n` new messages it takes now; they count against its capacity until handed over or cancelled. */
  reserve(n: number): number;
  /** The reserved messages, committed as 'sending' under its lease. */
  take(messages: ClaimedMessage[]): void;
  /** The commit failed: the reservation of `n` is given back. */
  cancel(n: number): void;
}
