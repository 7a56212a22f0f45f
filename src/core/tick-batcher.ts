/**
 * Coalesces calls made in the same tick into one batch per key: many callers each await
 * their own item, one round trip serves them all. This is how per-task calls turn into
 * per-batch script calls without the caller knowing (ARCHITECTURE: batching, not processes).
 *
 * The batch is flushed in a microtask, at the end of the synchronous run that made the calls
 * (a loop over a batch of tasks, a Promise.all): a lone call is not held back for a turn of
 * the event loop, which would add that turn to the latency of every call awaited one at a
 * time. (node-redis still writes everything issued in one loop turn in one socket write.)
 */
export class TickBatcher<I, R> {
  private pending = new Map<
    string,
    { items: I[]; waiters: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }> }
  >();
  /** The map flushed last time, emptied, taken up again at the next flush (a map per flush is garbage). */
  private spare: typeof this.pending = new Map();
  private scheduled = false;

  constructor(
    private readonly flushBatch: (key: string, items: I[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (batch === undefined) {
        // Made holding the first call: arrays of its size, not grown by push to room for 17
        // (a lone call, the common batch of a caller awaiting one at a time, costs less).
        batch = { items: [item], waiters: [{ resolve, reject }] };
        this.pending.set(key, batch);
      } else {
        batch.items.push(item);
        batch.waiters.push({ resolve, reject });
      }
      if (batch.items.length >= this.maxBatch) {
        this.pending.delete(key);
        this.run(key, batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    // Calls made while these run go to a batch of the next flush, never into one already sent.
    this.pending = this.spare;
    for (const [key, batch] of batches) this.run(key, batch);
    batches.clear();
    this.spare = batches;
  }

  private run(
    key: string,
    batch: { items: I[]; waiters: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }> },
  ): void {
    this.flushBatch(key, batch.items).then(
      (results) => {
        batch.waiters.forEach((w, i) => {
          w.resolve(results[i] as R);
        });
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
