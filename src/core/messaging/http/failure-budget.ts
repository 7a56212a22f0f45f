/** Peers whose budget is remembered at most; a full bucket is forgotten (it is what a new peer gets). */
const MAX_PEERS = 10_000;

export type FailureBudgetOptions = {
  /** Failed messages a peer may send at once before it is refused. Default 20. */
  burst: number;
  /** Failed messages per second a peer earns back. Default 5. */
  perSecond: number;
  /** Monotonic milliseconds, for tests. Default performance.now. */
  now?: () => number;
};

type Bucket = { tokens: number; at: number; told: boolean };

/**
 * What a peer may cost us in messages that fail admission (bad signature, malformed, stale,
 * misdirected, too large): a token bucket per peer address, one token per failed message. Every
 * such message was parsed, walked and perhaps hashed for nothing, so once a peer's bucket is
 * empty its bodies are refused before they are read, parsed or hashed, until it refills.
 * A peer that never fails spends nothing. IPv6 peers are counted by their /64, which one host
 * usually holds whole.
 */
export class FailureBudget {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: FailureBudgetOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Whole seconds until `address` may send again (for Retry-After); 0 when it may now. */
  retryAfter(address: string): number {
    const bucket = this.refilled(peerKey(address));
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.options.perSecond));
  }

  /**
   * Takes a token for one failed message of `address`: false once its budget is spent, and the
   * rest of what it sent is to be refused unverified.
   */
  charge(address: string): boolean {
    const key = peerKey(address);
    const bucket = this.refilled(key) ?? this.fresh(key);
    bucket.tokens -= 1;
    return bucket.tokens >= 1;
  }

  /** True the first time it is asked during one stretch of `address` being refused: log that one. */
  firstRefusal(address: string): boolean {
    const bucket = this.buckets.get(peerKey(address));
    if (bucket === undefined || bucket.told) return false;
    bucket.told = true;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string): Bucket | undefined {
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(
      this.options.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.options.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens >= 1) bucket.told = false;
    if (bucket.tokens >= this.options.burst) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }

  private fresh(key: string): Bucket {
    if (this.buckets.size >= MAX_PEERS) this.forgetOne();
    const bucket = { tokens: this.options.burst, at: this.now(), told: false };
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** Room for one more: a bucket that has refilled if there is one near the front, else the oldest. */
  private forgetOne(): void {
    let looked = 0;
    for (const key of this.buckets.keys()) {
      if (this.refilled(key) === undefined || ++looked >= 16) break;
    }
    if (this.buckets.size >= MAX_PEERS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

/** The unit a budget is kept for: an IPv4 address, or the /64 of an IPv6 one. */
export function peerKey(address: string): string {
  if (!address.includes(":")) return address;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address.slice(7);
  const [head = "", tail] = address.toLowerCase().split("%")[0]!.split("::");
  const front = head === "" ? [] : head.split(":");
  const back = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill("0"), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
