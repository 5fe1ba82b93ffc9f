/**
 * Runs `fn` every `ms` milliseconds, one run at a time (a run still going skips the tick), on a
 * timer that does not keep the process alive. `stop` ends the timer and waits for a run in progress.
 */
export function every(ms: number, fn: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = fn().finally(() => (running = undefined));
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
