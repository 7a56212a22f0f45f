/**
 * The embedded engine's data: a Redis-like keyspace of strings, hashes, sets and sorted sets with
 * millisecond expiry. Methods mirror the Redis commands of the same name so that a script's
 * memory implementation reads like its Lua twin. Expiry uses the monotonic clock.
 */
type Entry =
  | { type: "string"; value: string; expiresAt?: number }
  | { type: "hash"; value: Map<string, string>; expiresAt?: number }
  | { type: "set"; value: Set<string>; expiresAt?: number }
  | { type: "zset"; value: SortedSet; expiresAt?: number };

export class WrongTypeError extends Error {
  constructor(key: string) {
    super(`WRONGTYPE Operation against a key holding the wrong kind of value (${key})`);
  }
}

export class NotIntegerError extends Error {
  constructor() {
    super("ERR value is not an integer or out of range");
  }
}

const now = (): number => performance.now();

/**
 * A sorted set: scores by member, and the members in (score, member) order, sorted again only
 * when read after a change (a burst of ZADDs costs one sort, not one per member).
 */
class SortedSet {
  readonly scores = new Map<string, number>();
  private order: string[] | null = [];

  add(member: string, score: number): number {
    const had = this.scores.has(member);
    if (this.scores.get(member) !== score) this.order = null;
    this.scores.set(member, score);
    return had ? 0 : 1;
  }

  remove(member: string): number {
    if (!this.scores.delete(member)) return 0;
    this.order = null;
    return 1;
  }

  sorted(): string[] {
    this.order ??= [...this.scores.keys()].sort((a, b) => {
      const d = this.scores.get(a)! - this.scores.get(b)!;
      return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
    });
    return this.order;
  }
}

/**
 * Redis' order of two strings, byte by byte of their UTF-8 (the order of their code points):
 * `<` compares UTF-16 code units, which puts U+E000..U+FFFF after the characters beyond U+FFFF.
 */
function byteOrder(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return a.length - i - (b.length - j);
}

/** MemoryKeyspace.maxRetired when nothing else is configured (RedisConfig.memoryMaxFinished). */
export const DEFAULT_MAX_RETIRED = 100_000;

const NONE: readonly string[] = [];

export class MemoryKeyspace {
  private readonly entries = new Map<string, Entry>();
  private sweepCursor: Iterator<[string, Entry]> | undefined;
  /**
   * Keys given up to their expiry by retire(), oldest first (a Map: O(1) to move one to the end),
   * each with the keys that go with it.
   */
  private readonly retired = new Map<string, readonly string[]>();
  /** Groups of keys given up to their expiry by retireGroup(), oldest first, with what drops each. */
  private readonly retiredGroups = new Map<string, () => void>();
  /**
   * Retired keys kept at most: past it, the oldest still expiring goes at once, as if its time
   * had run out. What bounds the memory of finished work in this process, which Redis bounds with
   * maxmemory (a Redis keeps every record for its whole retention).
   */
  maxRetired = DEFAULT_MAX_RETIRED;

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops up to `budget` expired keys, resuming where the last sweep stopped (like Redis' active expiry). */
  sweep(budget = 200): void {
    const t = now();
    for (let i = 0; i < budget; i++) {
      this.sweepCursor ??= this.entries.entries();
      const next = this.sweepCursor.next();
      if (next.done) {
        this.sweepCursor = undefined;
        return;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt !== undefined && entry.expiresAt <= t) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Epoch milliseconds, the memory twin of Redis' TIME in scripts. */
  timeMs(): number {
    return Date.now();
  }

  exists(key: string): boolean {
    return this.live(key) !== undefined;
  }

  get(key: string): string | null {
    const entry = this.live(key);
    if (entry === undefined) return null;
    if (entry.type !== "string") throw new WrongTypeError(key);
    return entry.value;
  }

  set(key: string, value: string, options: { px?: number; nx?: boolean; keepTtl?: boolean } = {}): boolean {
    const existing = this.live(key);
    if (options.nx && existing !== undefined) return false;
    const entry: Entry = { type: "string", value };
    if (options.px !== undefined) entry.expiresAt = now() + options.px;
    else if (options.keepTtl && existing?.expiresAt !== undefined) entry.expiresAt = existing.expiresAt;
    this.entries.set(key, entry);
    return true;
  }

  del(key: string): number {
    return this.live(key) !== undefined && this.entries.delete(key) ? 1 : 0;
  }

  incrBy(key: string, amount: number): number {
    const current = this.get(key);
    const base = current === null ? 0 : Number(current);
    if (!Number.isSafeInteger(base) || (current !== null && !/^-?\d+$/.test(current)))
      throw new NotIntegerError();
    const next = base + amount;
    const entry = this.live(key);
    this.entries.set(key, {
      type: "string",
      value: String(next),
      ...(entry?.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}),
    });
    return next;
  }

  pexpire(key: string, ms: number): number {
    const entry = this.live(key);
    if (entry === undefined) return 0;
    entry.expiresAt = now() + ms;
    return 1;
  }

  /**
   * Counts `key` among the retired: it already expires (PEXPIRE), and may go sooner once more
   * than maxRetired keys are retired after it, with those of its `companions` that expire too. A
   * key that no longer expires when its turn comes (written again since, or persisted) stays, and
   * its companions with it.
   */
  retire(key: string, companions: readonly string[] = NONE): void {
    this.retired.delete(key);
    this.retired.set(key, companions);
    while (this.retired.size > this.maxRetired) {
      const [oldest, along] = this.retired.entries().next().value as [string, readonly string[]];
      this.retired.delete(oldest);
      if (this.entries.get(oldest)?.expiresAt === undefined) continue;
      this.entries.delete(oldest);
      for (const k of along) if (this.entries.get(k)?.expiresAt !== undefined) this.entries.delete(k);
    }
  }

  /**
   * retire() for a group of keys that go together (a finished task's checkpoint thread),
   * counted as one: once more than maxRetired groups are retired after it, `drop` runs (it
   * deletes what of the group still expires). Groups are counted apart from retire()'s keys.
   */
  retireGroup(name: string, drop: () => void): void {
    this.retiredGroups.delete(name);
    this.retiredGroups.set(name, drop);
    while (this.retiredGroups.size > this.maxRetired) {
      const [oldest, dropOldest] = this.retiredGroups.entries().next().value as [string, () => void];
      this.retiredGroups.delete(oldest);
      dropOldest();
    }
  }

  /** Milliseconds left; -1 without expiry, -2 when the key does not exist (as Redis). */
  pttl(key: string): number {
    const entry = this.live(key);
    if (entry === undefined) return -2;
    if (entry.expiresAt === undefined) return -1;
    return Math.max(0, Math.round(entry.expiresAt - now()));
  }

  private hash(key: string, create: boolean): Map<string, string> | undefined {
    const entry = this.live(key);
    if (entry === undefined) {
      if (!create) return undefined;
      const value = new Map<string, string>();
      this.entries.set(key, { type: "hash", value });
      return value;
    }
    if (entry.type !== "hash") throw new WrongTypeError(key);
    return entry.value;
  }

  hget(key: string, field: string): string | null {
    return this.hash(key, false)?.get(field) ?? null;
  }

  hset(key: string, fields: Record<string, string>): number {
    const hash = this.hash(key, true)!;
    let added = 0;
    for (const [f, v] of Object.entries(fields)) {
      if (!hash.has(f)) added++;
      hash.set(f, v);
    }
    return added;
  }

  hgetall(key: string): Record<string, string> {
    return Object.fromEntries(this.hash(key, false) ?? []);
  }

  hlen(key: string): number {
    return this.hash(key, false)?.size ?? 0;
  }

  hdel(key: string, field: string): number {
    const hash = this.hash(key, false);
    if (hash === undefined) return 0;
    const removed = hash.delete(field) ? 1 : 0;
    if (hash.size === 0) this.entries.delete(key);
    return removed;
  }

  private setOf(key: string, create: boolean): Set<string> | undefined {
    const entry = this.live(key);
    if (entry === undefined) {
      if (!create) return undefined;
      const value = new Set<string>();
      this.entries.set(key, { type: "set", value });
      return value;
    }
    if (entry.type !== "set") throw new WrongTypeError(key);
    return entry.value;
  }

  sadd(key: string, member: string): number {
    const set = this.setOf(key, true)!;
    if (set.has(member)) return 0;
    set.add(member);
    return 1;
  }

  srem(key: string, member: string): number {
    const set = this.setOf(key, false);
    if (set === undefined) return 0;
    const removed = set.delete(member) ? 1 : 0;
    if (set.size === 0) this.entries.delete(key);
    return removed;
  }

  sismember(key: string, member: string): number {
    return this.setOf(key, false)?.has(member) ? 1 : 0;
  }

  smembers(key: string): string[] {
    return [...(this.setOf(key, false) ?? [])];
  }

  private zset(key: string, create: boolean): SortedSet | undefined {
    const entry = this.live(key);
    if (entry === undefined) {
      if (!create) return undefined;
      const value = new SortedSet();
      this.entries.set(key, { type: "zset", value });
      return value;
    }
    if (entry.type !== "zset") throw new WrongTypeError(key);
    return entry.value;
  }

  zadd(key: string, score: number, member: string): number {
    return this.zset(key, true)!.add(member, score);
  }

  zrem(key: string, member: string): number {
    const zset = this.zset(key, false);
    if (zset === undefined) return 0;
    const removed = zset.remove(member);
    if (zset.scores.size === 0) this.entries.delete(key);
    return removed;
  }

  zscore(key: string, member: string): number | null {
    return this.zset(key, false)?.scores.get(member) ?? null;
  }

  zcard(key: string): number {
    return this.zset(key, false)?.scores.size ?? 0;
  }

  /**
   * ZRANGEBYLEX key (after + LIMIT 0 limit (from "-" when after is null), on a sorted set whose
   * members all have one score: the members after `after` in order, at most `limit` of them.
   */
  zrangeByLex(key: string, after: string | null, limit: number): string[] {
    const zset = this.zset(key, false);
    if (zset === undefined) return [];
    const members = [...zset.scores.keys()];
    return (after === null ? members : members.filter((m) => byteOrder(m, after) > 0))
      .sort(byteOrder)
      .slice(0, limit);
  }

  /** ZRANGE key 0 -1 WITHSCORES with BYSCORE -inf max and LIMIT 0 limit: [member, score] pairs. */
  zrangeByScore(key: string, max: number, limit = Number.POSITIVE_INFINITY): Array<[string, number]> {
    const zset = this.zset(key, false);
    if (zset === undefined) return [];
    const out: Array<[string, number]> = [];
    for (const member of zset.sorted()) {
      const score = zset.scores.get(member)!;
      if (score > max || out.length >= limit) break;
      out.push([member, score]);
    }
    return out;
  }
}
