/**
 * Coalesces calls made in the same tick into one batch per key: many callers each await
 * their own item, one round trip serves them all. This is how per-task calls turn into
 * per-batch script calls without the caller knowing (ARCHITECTURE: batching, not processes).
 */
export class TickBatcher<I, R> {
  private pending = new Map<
    string,
    { items: I[]; waiters: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }> }
  >();
  private scheduled = false;

  constructor(
    private readonly flushBatch: (key: string, items: I[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (batch === undefined) {
        batch = { items: [], waiters: [] };
        this.pending.set(key, batch);
      }
      batch.items.push(item);
      batch.waiters.push({ resolve, reject });
      if (batch.items.length >= this.maxBatch) {
        this.pending.delete(key);
        this.run(key, batch);
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, batch] of batches) this.run(key, batch);
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
