import type { Logger } from "../../core/logger.js";
import type { LeaseInfo, RedisClient } from "../../core/store/index.js";

/**
 * Whether this distributor process is a standby: a second process under a running one's id,
 * waiting for the lease that one holds and renews. Told apart from a restart after a crash (the
 * previous run's lease, left to expire) by watching the lease: the same grant (token) whose
 * expiry moves on is renewed, so its holder lives. A standby sends nothing under the id (no
 * registration, no heartbeat: the coordinator hears the holder as that id), and says so once;
 * once it takes the lease it is the distributor. A lease lost later is a recovery, heard as
 * before (its store down: no renewal seen), until it sees another process renew the lease: a
 * holder frozen past its lease whose standby took over waits as a standby again (GET /health
 * 503, nothing sent under the id). A process that has not seen a renewal yet heartbeats as
 * before, `recovering`: after a crash its coordinator must keep hearing it.
 */
export class LeaseStandby {
  private seen: LeaseInfo | null = null;
  private everOwned = false;
  private standing = false;
  private markOwned!: () => void;
  private markStandby!: () => void;
  /** Resolves once this process holds the lease (at once after a plain start). */
  readonly whenOwned = new Promise<void>((r) => {
    this.markOwned = r;
  });
  /** Resolves when this process turns out to be a standby (never, for one that takes the lease first). */
  readonly whenStandby = new Promise<void>((r) => {
    this.markStandby = r;
  });

  constructor(
    private readonly store: RedisClient,
    private readonly leaseKey: string,
    private readonly log: Logger,
  ) {}

  /** True while this process waits, as a standby, for the lease a live process holds. */
  get standby(): boolean {
    return this.standing;
  }

  /**
   * Before a heartbeat, with whether the lease is ours now: "hold" (a standby: send nothing),
   * "resume" (the standby has just taken the lease: register, then heartbeat) or "send".
   */
  async next(owns: boolean): Promise<"hold" | "resume" | "send"> {
    if (owns) {
      this.everOwned = true;
      this.seen = null; // a renewal is judged on reads made after the lease was lost
      this.markOwned();
      if (!this.standing) return "send";
      this.standing = false;
      this.log.info("took the shared-state lease: no longer a standby, serving as this distributor");
      return "resume";
    }
    if (this.standing) return "hold";
    const lease = await this.store.getLease(this.leaseKey).catch(() => null);
    const before = this.seen;
    this.seen = lease;
    const renewed =
      lease !== null &&
      before !== null &&
      lease.token === before.token &&
      Date.parse(lease.expires_at) - Date.parse(before.expires_at) > RENEWED_MS;
    if (!renewed) return "send";
    this.standing = true;
    if (this.everOwned) {
      // It held the lease, froze (SIGSTOP, a long pause) and a standby took over: it answered
      // /health 200 and heartbeat `recovering` beside the new holder, so a health-checked
      // front sent d1's workers to a process that dispatches nothing.
      this.log.warn(
        { lease_owner: lease.owner, lease_token: lease.token },
        "lost this distributor id's lease to another live process: waiting as a standby until it is free",
      );
      return "hold";
    }
    this.log.warn(
      { lease_owner: lease.owner, lease_token: lease.token },
      "another live process holds this distributor id's lease: waiting as a standby (not ready, no heartbeats under the id) until it is free (give each distributor its own --id)",
    );
    this.markStandby();
    return "hold";
  }
}

/** How far a lease's expiry must have moved on to count as renewed: more than the ms rounding of its reads. */
const RENEWED_MS = 20;
