import type { StoreConnectFailure } from "./connect-failure.js";
import type { MemoryKeyspace } from "./engines/memory/keyspace.js";

/** What a Lua script replies, in RESP2 terms: integers, bulk strings, nil and arrays of those. */
export type ScriptReply = number | string | null | ScriptReply[];

/**
 * An atomic multi-step change to the store. On Redis it runs as the Lua `lua` (EVALSHA, EVAL on
 * NOSCRIPT); on the embedded engine `memory` runs synchronously, which is atomic there because
 * nothing else runs in between. Both get the same KEYS and ARGV and must reply the same.
 */
export type StoreScript = {
  readonly name: string;
  readonly numKeys: number;
  readonly lua: string;
  readonly sha1: string;
  readonly memory: (db: MemoryKeyspace, keys: string[], args: string[]) => ScriptReply;
};

export type SetOptions = { px?: number; nx?: boolean; keepTtl?: boolean };

/** The store seen from RedisClient: keys arrive here already prefixed. One per engine. */
export interface StoreEngine {
  /** "cluster": Redis Cluster, where a script's keys must all hash to one slot. */
  readonly kind: "redis" | "cluster" | "memory";
  connect(): Promise<boolean>;
  /** Why the last connect() resolved false, and the fix (an engine that cannot fail has none). */
  readonly connectFailure?: StoreConnectFailure | undefined;
  disconnect(): Promise<void>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  incrBy(key: string, amount: number): Promise<number>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(channels: string[], listener: (channel: string, message: string) => void): Promise<void>;
  unsubscribe(channels?: string[]): Promise<void>;
  runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply>;
  /**
   * Redis WAIT on the connection that carried the writes to `routeKey` (its node on Redis
   * Cluster): how many replicas acknowledged them within `timeoutMs`. Redis engines only.
   */
  waitReplicas?(routeKey: string, replicas: number, timeoutMs: number): Promise<number>;
}
