import type { RedisClient } from "../../core/store/index.js";

/**
 * Holds a lease for its owner and knows, on its own clock, when to stop trusting it: the
 * local deadline counts from before the last successful renewal was sent, so the holder stops
 * acting as owner before Redis could have handed the lease to someone else.
 */
export class LeaseKeeper {
  private token: number | null = null;
  private deadline = 0;
  /** Set by release(): from then on nothing is taken, and a grant still on its way is given back. */
  private released = false;
  private acquiring: Promise<boolean> | null = null;

  constructor(
    private readonly store: RedisClient,
    readonly leaseKey: string,
    readonly owner: string,
    private readonly ttlMs: number,
    /** The holder's clock, milliseconds (a test's own, to pass a deadline without waiting for it). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True while the lease is ours and our local deadline has not passed. */
  get owns(): boolean {
    return this.token !== null && this.now() < this.deadline;
  }

  get fencingToken(): number | null {
    return this.owns ? this.token : null;
  }

  acquire(): Promise<boolean> {
    if (this.released) return Promise.resolve(false);
    const attempt = this.take().finally(() => {
      if (this.acquiring === attempt) this.acquiring = null;
    });
    this.acquiring = attempt;
    return attempt;
  }

  private async take(): Promise<boolean> {
    const sent = this.now();
    const token = await this.store.acquireLeaseToken(this.leaseKey, this.owner, this.ttlMs / 1000);
    if (token === null) return false;
    if (this.released) {
      // Granted after we stopped: give it straight back rather than hold it until its TTL.
      await this.store.releaseLease(this.leaseKey, this.owner, token).catch(() => false);
      return false;
    }
    this.token = token;
    this.deadline = sent + this.ttlMs;
    return true;
  }

  /** Extends the lease we hold, or tries to take it when we hold none. False when we do not own it. */
  async keep(): Promise<boolean> {
    if (this.token === null) return this.acquire();
    const sent = this.now();
    let renewed: boolean;
    try {
      renewed = await this.store.renewLease(this.leaseKey, this.owner, this.ttlMs / 1000, this.token);
    } catch {
      // Redis unreachable: the grant may still be ours; the local deadline decides until we know.
      return this.owns;
    }
    if (renewed) {
      this.deadline = sent + this.ttlMs;
      return true;
    }
    // Refused: the grant is gone (expired, or taken by another). Try for a new one next time.
    this.token = null;
    return false;
  }

  /** Gives the lease back for good: an acquire still in flight is waited for and undone. */
  async release(): Promise<void> {
    this.released = true;
    await this.acquiring?.catch(() => false);
    if (this.token === null) return;
    const token = this.token;
    this.token = null;
    try {
      await this.store.releaseLease(this.leaseKey, this.owner, token);
    } catch {
      // It will expire by itself.
    }
  }
}
