/** Who waits for an item's result: add()'s caller, or addMany()'s (`slot`: the item's place in its call). */
type Waiter<R> = { resolve: (r: R, slot: number) => void; reject: (e: unknown) => void };
type Batch<I, R> = { items: I[]; waiters: Waiter<R>[]; slots: number[] };

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
  private pending = new Map<string, Batch<I, R>>();
  /** The map flushed last time, emptied, taken up again at the next flush (a map per flush is garbage). */
  private spare: typeof this.pending = new Map();
  private scheduled = false;

  constructor(
    private readonly flushBatch: (key: string, items: I[]) => Promise<R[]>,
    private readonly maxBatch = 500,
  ) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.put(key, item, { resolve, reject }, 0);
    });
  }

  /**
   * add() for each of `from`, with one promise for them all (not one per item), answered with
   * their results in order: the item of each is `itemOf(x)`, batched under `keyOf(x)`. Rejects
   * with the first batch that fails.
   */
  addMany<X>(from: X[], keyOf: (x: X) => string, itemOf: (x: X) => I): Promise<R[]> {
    if (from.length === 0) return Promise.resolve([]);
    return new Promise<R[]>((resolve, reject) => {
      const out = new Array<R>(from.length);
      let left = from.length;
      let failed = false;
      const waiter: Waiter<R> = {
        resolve: (r, slot) => {
          out[slot] = r;
          if (--left === 0 && !failed) resolve(out);
        },
        reject: (e) => {
          if (failed) return;
          failed = true;
          reject(e);
        },
      };
      for (let slot = 0; slot < from.length; slot++) {
        const x = from[slot]!;
        this.put(keyOf(x), itemOf(x), waiter, slot);
      }
    });
  }

  private put(key: string, item: I, waiter: Waiter<R>, slot: number): void {
    let batch = this.pending.get(key);
    if (batch === undefined) {
      // Made holding the first call: arrays of its size, not grown by push to room for 17
      // (a lone call, the common batch of a caller awaiting one at a time, costs less).
      batch = { items: [item], waiters: [waiter], slots: [slot] };
      this.pending.set(key, batch);
    } else {
      batch.items.push(item);
      batch.waiters.push(waiter);
      batch.slots.push(slot);
    }
    if (batch.items.length >= this.maxBatch) {
      this.pending.delete(key);
      this.run(key, batch);
    } else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
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

  private run(key: string, batch: Batch<I, R>): void {
    let sent: Promise<R[]>;
    try {
      sent = this.flushBatch(key, batch.items);
    } catch (err) {
      // A batch call that throws instead of rejecting (a store not connected) still answers its
      // callers: thrown here, in the flush's microtask, it would end the process and leave them waiting.
      sent = Promise.reject(err);
    }
    sent.then(
      (results) => {
        const { waiters, slots } = batch;
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(results[i] as R, slots[i]!);
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
