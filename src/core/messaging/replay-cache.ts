/** Entries of one accepted message: when it may be forgotten, and the timestamp it carried. */
type Entry = { expiresAt: number; timestampMs: number };

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
  private readonly entries = new Map<string, Entry>();
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
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when this sender's request id was accepted and is still remembered. */
  has(sender: string, requestId: string): boolean {
    const entry = this.entries.get(key(sender, requestId));
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /** True when a message with this timestamp is older than what the cache can still vouch for. */
  beyondHorizon(sender: string, timestampMs: number): boolean {
    const horizon = this.horizons.get(sender) ?? Number.NEGATIVE_INFINITY;
    return timestampMs <= horizon || timestampMs <= this.sharedHorizon;
  }

  remember(sender: string, requestId: string, timestampMs: number): void {
    const now = this.now();
    this.expire(now);
    while (this.entries.size >= this.capacity) this.evictOldest();
    const k = key(sender, requestId);
    // Re-inserting moves the id to the back, keeping the map in expiry order.
    this.entries.delete(k);
    this.entries.set(k, { expiresAt: now + this.ttlMs, timestampMs });
  }

  /** Drops ids past their time. Insertion order is expiry order (one TTL for all), so it stops early. */
  private expire(now: number): void {
    for (const [k, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(k);
    }
  }

  private evictOldest(): void {
    const oldest = this.entries.entries().next().value;
    if (oldest === undefined) return;
    const [k, entry] = oldest;
    this.entries.delete(k);
    const sender = senderOf(k);
    const horizon = Math.max(this.horizons.get(sender) ?? Number.NEGATIVE_INFINITY, entry.timestampMs);
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
