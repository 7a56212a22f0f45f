export type ReplayCacheOptions = {
  /** Most request ids remembered at once. */
  capacity: number;
  /** How long an id is remembered: at least twice the clock-skew window (see below). */
  ttlMs: number;
  /** Most senders with their own eviction horizon; beyond that they share one. */
  maxSenders?: number;
  /** Monotonic milliseconds; remembering is a local deadline, so it must not follow wall-clock jumps. */
  now?: () => number;
};

/**
 * The request ids already accepted, per sender, bounded in time and in size.
 *
 * Time: a message is fresh while its timestamp is within the skew window S of our clock, so it
 * can arrive at most 2S after it was first accepted (sent at now+S, replayed at now+S+S-ε).
 * Remembering each id for 2S therefore covers every replay the freshness check lets through.
 *
 * Size: when full, the oldest id is forgotten early, and its timestamp becomes its sender's
 * horizon: from then on that sender's unseen messages stamped at or before the horizon are
 * refused as stale, because we can no longer prove they were not accepted before. Under heavy
 * load the window in which late messages are accepted shrinks; replays never get through.
 */
export class ReplayCache {
  // A ring of accepted ids in arrival order (which is expiry order: one TTL for all), and an
  // index from id to its slot. Both O(1) per message; a Map's own iteration order would do
  // the same job but slows down as deletions pile up at its front.
  private readonly keys: (string | undefined)[];
  private readonly expiresAt: Float64Array;
  private readonly stamps: Float64Array;
  private readonly slots = new Map<string, number>();
  private head = 0;
  private count = 0;
  private readonly horizons = new Map<string, number>();
  private sharedHorizon = Number.NEGATIVE_INFINITY;
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly maxSenders: number;
  private readonly now: () => number;

  constructor(options: ReplayCacheOptions) {
    this.capacity = options.capacity;
    this.ttlMs = options.ttlMs;
    this.maxSenders = options.maxSenders ?? 10_000;
    this.now = options.now ?? (() => performance.now());
    this.keys = new Array<string | undefined>(this.capacity);
    this.expiresAt = new Float64Array(this.capacity);
    this.stamps = new Float64Array(this.capacity);
  }

  get size(): number {
    return this.slots.size;
  }

  /** True when this sender's request id was accepted and is still remembered. */
  has(sender: string, requestId: string): boolean {
    const slot = this.slots.get(key(sender, requestId));
    return slot !== undefined && (this.expiresAt[slot] as number) > this.now();
  }

  /** True when a message with this timestamp is older than what the cache can still vouch for. */
  beyondHorizon(sender: string, timestampMs: number): boolean {
    const horizon = this.horizons.get(sender) ?? Number.NEGATIVE_INFINITY;
    return timestampMs <= horizon || timestampMs <= this.sharedHorizon;
  }

  /**
   * The one call of the receiving path: "duplicate" when the id is remembered, "stale" when the
   * message is past its sender's horizon, else "new", and the id is remembered from now on.
   */
  admit(sender: string, requestId: string, timestampMs: number): "new" | "duplicate" | "stale" {
    const k = key(sender, requestId);
    const now = this.now();
    const slot = this.slots.get(k);
    if (slot !== undefined && (this.expiresAt[slot] as number) > now) return "duplicate";
    if (this.beyondHorizon(sender, timestampMs)) return "stale";
    this.store(k, now, timestampMs);
    return "new";
  }

  remember(sender: string, requestId: string, timestampMs: number): void {
    this.store(key(sender, requestId), this.now(), timestampMs);
  }

  private store(k: string, now: number, timestampMs: number): void {
    while (this.count > 0 && (this.expiresAt[this.head] as number) <= now) this.dropOldest(false);
    if (this.count === this.capacity) this.dropOldest(true);
    const slot = (this.head + this.count) % this.capacity;
    this.keys[slot] = k;
    this.expiresAt[slot] = now + this.ttlMs;
    this.stamps[slot] = timestampMs;
    this.slots.set(k, slot);
    this.count += 1;
  }

  /** Forgets the oldest id; `early` when its time was not up, which raises its sender's horizon. */
  private dropOldest(early: boolean): void {
    const slot = this.head;
    const k = this.keys[slot] as string;
    this.keys[slot] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
    // An id remembered again after it expired has a newer slot; leave that one be.
    if (this.slots.get(k) === slot) this.slots.delete(k);
    if (early) this.raiseHorizon(senderOf(k), this.stamps[slot] as number);
  }

  private raiseHorizon(sender: string, timestampMs: number): void {
    const horizon = Math.max(this.horizons.get(sender) ?? Number.NEGATIVE_INFINITY, timestampMs);
    this.horizons.delete(sender);
    this.horizons.set(sender, horizon);
    if (this.horizons.size > this.maxSenders) {
      // Fold the least recently raised horizon into the shared one: stricter for everyone, never looser.
      const [firstSender, firstHorizon] = this.horizons.entries().next().value as [string, number];
      this.horizons.delete(firstSender);
      this.sharedHorizon = Math.max(this.sharedHorizon, firstHorizon);
    }
  }
}

// request_id is a validated 36-character UUID, so the sender is whatever follows it.
const UUID_LENGTH = 36;

function key(sender: string, requestId: string): string {
  return requestId.toLowerCase() + sender;
}

function senderOf(k: string): string {
  return k.slice(UUID_LENGTH);
}
