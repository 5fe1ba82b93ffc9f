/** A flush's answer for one item that failed on its own: that item is rejected, the others get their results. */
export class ItemFailure {
  constructor(readonly reason: unknown) {}
}

interface Waiting<T, R> {
  item: T;
  lazy: boolean;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: items added while a flush is running wait and go together in the next flush.
 * At low load a lone item is flushed at once (no timer, no added latency); under load the
 * batches grow by themselves, so concurrent callers share one round trip and one commit.
 * A lazy item is in no hurry: it waits for the next flush that an eager item starts, or for
 * `lingerMs`, whichever comes first — so it rides along instead of costing a commit of its own.
 */
export class Batcher<T, R> {
  private pending: Waiting<T, R>[] = [];
  private eager = 0;
  private running = 0;
  private linger?: NodeJS.Timeout;

  constructor(
    private readonly flush: (items: T[]) => Promise<(R | ItemFailure)[]>,
    private readonly options: { maxBatch: number; maxConcurrent: number; lingerMs?: number },
  ) {}

  add(item: T, lazy = false): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, lazy, resolve, reject });
      if (!lazy) this.eager++;
      this.kick();
    });
  }

  private kick(): void {
    while (this.running < this.options.maxConcurrent && this.pending.length > 0) {
      // Only lazy items, and not a full batch of them: wait for an eager one, at most lingerMs.
      if (this.eager === 0 && this.pending.length < this.options.maxBatch) {
        this.linger ??= setTimeout(() => {
          this.linger = undefined;
          this.flushNow();
        }, this.options.lingerMs ?? 0);
        return;
      }
      this.flushNow();
    }
  }

  private flushNow(): void {
    if (this.linger !== undefined) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    if (this.running >= this.options.maxConcurrent || this.pending.length === 0) return this.kick();
    const batch = this.pending.splice(0, this.options.maxBatch);
    for (const b of batch) if (!b.lazy) this.eager--;
    this.running++;
    this.flush(batch.map((b) => b.item))
      .then((results) => {
        if (results.length !== batch.length) throw new Error(`batch flush returned ${results.length} results for ${batch.length} items`);
        batch.forEach((b, i) => {
          const r = results[i];
          if (r instanceof ItemFailure) b.reject(r.reason);
          else b.resolve(r as R);
        });
      })
      .catch((err: unknown) => batch.forEach((b) => b.reject(err)))
      .finally(() => {
        this.running--;
        this.kick();
      });
  }
}
