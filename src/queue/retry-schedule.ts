/** Postfix's defaults: minimal_backoff_time 300s, maximal_backoff_time 4000s. */
export const MIN_BACKOFF_SECONDS = 300;
export const MAX_BACKOFF_SECONDS = 4000;

/**
 * Seconds to wait after the given failed attempt (1 = the first): 5 min, 10, 20, 40, then
 * about 67 min for every later attempt, as Postfix does.
 */
export function backoffSeconds(failedAttempt: number, min = MIN_BACKOFF_SECONDS, max = MAX_BACKOFF_SECONDS): number {
  const n = Math.max(1, Math.floor(failedAttempt));
  if (n > 30) return max;
  return Math.min(max, min * 2 ** (n - 1));
}

/** When the next attempt is due, or null when the message's lifetime ends first (it then bounces). */
export function nextAttemptAt(now: Date, createdAt: Date, failedAttempt: number, lifetimeHours: number): Date | null {
  const expires = createdAt.getTime() + lifetimeHours * 3_600_000;
  if (now.getTime() >= expires) return null;
  const next = now.getTime() + backoffSeconds(failedAttempt) * 1000;
  // The last try happens at the end of the lifetime rather than never.
  return new Date(Math.min(next, expires));
}
