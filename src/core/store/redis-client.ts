import { storeUnavailable, TriadError } from "../errors.js";
import { decodeJson, encodeJson, type JsonValue } from "../json.js";
import { optionsObject, shownValue } from "../option-kinds.js";
import { type RedisConfig, type ReplicaWait, redactUrl, resolveStoreTarget } from "./config.js";
import { type StoreConnectFailure, storeUnreachable } from "./connect-failure.js";
import type { ScriptReply, StoreEngine, StoreScript } from "./engine.js";
import { MemoryEngine } from "./engines/memory/engine.js";
import { RedisEngine } from "./engines/redis.js";
import { RedisClusterEngine } from "./engines/redis-cluster.js";
import { StoreOutage } from "./store-outage.js";
import * as scripts from "./store-scripts.js";

export type LeaseInfo = { owner: string; acquired_at: string; expires_at: string; token: number };
export type TransactionOptions = { maxRetries?: number };

const DEFAULT_TRANSACTION_RETRIES = 100;

/**
 * The store (seed: core/redis_client.py). One API over three engines: a real Redis through
 * node-redis, Redis Cluster (`redis+cluster://` URLs or `cluster: { rootNodes }`), or the
 * embedded in-process engine for `memory://` URLs. Values are stored as
 * JSON, so what goes in comes back as it was (objects as objects, strings as strings).
 */
export class RedisClient {
  readonly engine: StoreEngine;
  readonly keyPrefix: string;
  /** Tells when the store becomes unavailable and when it is back (once per outage). */
  readonly outage = new StoreOutage();
  /** Where the store is, fit for a message: the URL with its password redacted. */
  readonly where: string;
  private readonly watched = new Map<string, string | null>();
  /**
   * With RedisConfig.waitReplicas: a second engine, for the changes runReplicatedScript makes
   * (WAIT counts the writes of its own connection, and blocks it while it waits, so it must
   * not hold up everything else).
   */
  private readonly replicated: { engine: StoreEngine; wait: ReplicaWait } | null;

  constructor(config: RedisConfig = {}) {
    // null (or a URL string) crashed inside with a TypeError, or was taken as the defaults.
    optionsObject("new RedisClient()", config);
    const target = resolveStoreTarget(config);
    // resolveStoreTarget checked it (no { or }).
    this.keyPrefix = config.keyPrefix ?? "";
    this.where =
      target.kind === "memory"
        ? `memory://${target.name}`
        : target.kind === "cluster"
          ? target.rootNodes.map(redactUrl).join(", ")
          : redactUrl(target.url);
    const redisEngine = (t: Exclude<typeof target, { kind: "memory" }>): StoreEngine =>
      t.kind === "cluster" ? new RedisClusterEngine(t, this.outage) : new RedisEngine(t, this.outage);
    this.engine =
      target.kind === "memory" ? new MemoryEngine(target.name, target.maxFinished) : redisEngine(target);
    this.replicated =
      target.kind === "memory" || target.replicaWait === null
        ? null
        : { engine: redisEngine(target), wait: target.replicaWait };
  }

  /** Resolves false, not a throw, when the server cannot be reached within the connect timeout. */
  async connect(): Promise<boolean> {
    const connected = await this.engine.connect();
    if (!connected || this.replicated === null) return connected;
    if (await this.replicated.engine.connect()) return true;
    await this.engine.disconnect();
    return false;
  }

  /** Why the last connect() resolved false (certificate, password, refused, DNS…) and the fix. */
  get connectFailure(): StoreConnectFailure | undefined {
    return this.engine.connectFailure ?? this.replicated?.engine.connectFailure;
  }

  /**
   * The error to throw once connect() resolved false: ERR_STORE_UNAVAILABLE, its message
   * starting with `who` ("coordinator c1") and naming the cause and the fix, the cause's code in
   * `details.cause` (see StoreConnectCause).
   */
  unreachable(who: string): TriadError {
    return storeUnreachable(who, this.where, this.connectFailure);
  }

  async disconnect(): Promise<void> {
    this.watched.clear();
    await this.replicated?.engine.disconnect();
    return this.engine.disconnect();
  }

  /** The full key under this client's prefix. Every key the client touches goes through here. */
  key(key: string): string {
    if (typeof key !== "string" || key.length === 0) {
      throw new TriadError(
        "ERR_INVALID_KEY",
        `a key must be a non-empty string (got ${JSON.stringify(key)})`,
      );
    }
    return this.keyPrefix + key;
  }

  async set(key: string, value: JsonValue, ttlSeconds?: number): Promise<boolean> {
    const k = this.key(key);
    const encoded = encodeJson(value, `value of ${key}`);
    if (ttlSeconds === undefined) return this.engine.set(k, encoded);
    return this.engine.set(k, encoded, { px: ttlToMs(ttlSeconds) });
  }

  async get(key: string): Promise<JsonValue | null> {
    const raw = await this.engine.get(this.key(key));
    return raw === null ? null : decodeJson(raw);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.engine.del(this.key(key))) > 0;
  }

  async exists(key: string): Promise<boolean> {
    return this.engine.exists(this.key(key));
  }

  /** Adds `amount` (an integer); null when the key holds something that is not an integer. */
  async incr(key: string, amount = 1): Promise<number | null> {
    const k = this.key(key);
    if (!Number.isSafeInteger(amount)) {
      throw new TriadError("ERR_INVALID_ARGUMENT", `incr amount must be an integer (got ${amount})`);
    }
    try {
      return await this.engine.incrBy(k, amount);
    } catch (err) {
      if (/not an integer|WRONGTYPE/.test(String((err as Error).message))) return null;
      throw err;
    }
  }

  async publish(channel: string, message: JsonValue): Promise<number> {
    return this.engine.publish(this.key(channel), encodeJson(message, `message on ${channel}`));
  }

  /** The callback gets the channel (without the prefix) and the parsed message; its errors are contained. */
  async subscribe(
    channels: string | string[],
    callback: (channel: string, data: JsonValue) => void,
  ): Promise<boolean> {
    const list = (Array.isArray(channels) ? channels : [channels]).map((c) => this.key(c));
    if (list.length === 0)
      throw new TriadError("ERR_INVALID_ARGUMENT", "subscribe needs at least one channel");
    // A callback that is not a function was subscribed, and every message then failed unseen.
    if (typeof callback !== "function")
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `subscribe: callback must be a function (got ${shownValue(callback)})`,
      );
    await this.engine.subscribe(list, (channel, message) => {
      try {
        callback(channel.slice(this.keyPrefix.length), decodeJson(message));
      } catch {
        // A subscriber's bug must not take the connection down with it.
      }
    });
    return true;
  }

  async unsubscribe(channels?: string | string[]): Promise<void> {
    const list =
      channels === undefined
        ? undefined
        : (Array.isArray(channels) ? channels : [channels]).map((c) => this.key(c));
    await this.engine.unsubscribe(list);
  }

  /**
   * Starts watching `key`, as Redis WATCH does: the next transaction() on this key from this
   * client works from the value seen now, and commits only if nobody wrote the key since.
   */
  async watch(key: string): Promise<boolean> {
    const k = this.key(key);
    this.watched.set(k, await this.engine.get(k));
    return true;
  }

  /**
   * Optimistic read-modify-write: reads the key, calls `update`, writes only if the key still
   * holds what was read (a Lua compare-and-set), else retries on the fresh value. Resolves to
   * the committed value, or null when it gave up after `maxRetries` conflicts.
   */
  async transaction<T extends JsonValue>(
    key: string,
    update: (current: T | null) => T | Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T | null> {
    if (typeof update !== "function")
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `transaction: update must be a function (got ${shownValue(update)})`,
      );
    const k = this.key(key);
    const maxRetries = options?.maxRetries ?? DEFAULT_TRANSACTION_RETRIES;
    // "3" or NaN compared false with every attempt: a conflict was retried for ever.
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0)
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `transaction: maxRetries must be an integer >= 0 (got ${shownValue(options.maxRetries)})`,
      );
    let raw: string | null;
    if (this.watched.has(k)) {
      raw = this.watched.get(k) ?? null;
      this.watched.delete(k);
    } else {
      raw = await this.engine.get(k);
    }
    for (let attempt = 0; ; attempt++) {
      const next = await update(raw === null ? null : (decodeJson(raw) as T));
      const encoded = encodeJson(next, `transaction result for ${key}`);
      const written = await this.engine.runScript(
        scripts.compareAndSet,
        [k],
        [raw === null ? "0" : "1", raw ?? "", encoded],
      );
      if (written === 1) return next;
      if (attempt >= maxRetries) return null;
      // Jittered backoff: contending writers spread out instead of colliding again in step.
      if (attempt > 2) await sleep(Math.random() * Math.min(2 ** attempt, 50));
      raw = await this.engine.get(k);
    }
  }

  private leaseKeys(leaseKey: string): [string, string] {
    const lease = this.key(`{lease:${leaseKey}}`);
    return [lease, `${lease}:fence`];
  }

  /** Takes the lease if it is free. The grant's fencing token is in getLease(). */
  async acquireLease(leaseKey: string, owner: string, ttlSeconds: number): Promise<boolean> {
    return (await this.acquireLeaseToken(leaseKey, owner, ttlSeconds)) !== null;
  }

  /** Takes the lease if it is free and returns its fencing token, or null when it is held. */
  async acquireLeaseToken(leaseKey: string, owner: string, ttlSeconds: number): Promise<number | null> {
    checkOwner(owner);
    const token = (await this.engine.runScript(scripts.acquireLease, this.leaseKeys(leaseKey), [
      owner,
      ttlToMs(ttlSeconds),
    ])) as number;
    return token > 0 ? token : null;
  }

  /** Extends the lease; only its owner can, and with `token`, only the same grant. */
  async renewLease(leaseKey: string, owner: string, ttlSeconds: number, token?: number): Promise<boolean> {
    checkOwner(owner);
    const [lease] = this.leaseKeys(leaseKey);
    const reply = await this.engine.runScript(
      scripts.renewLease,
      [lease],
      [owner, ttlToMs(ttlSeconds), token ?? ""],
    );
    return reply !== 0;
  }

  /** Gives the lease up; only its owner can, and with `token`, only the same grant. */
  async releaseLease(leaseKey: string, owner: string, token?: number): Promise<boolean> {
    checkOwner(owner);
    const [lease] = this.leaseKeys(leaseKey);
    return (await this.engine.runScript(scripts.releaseLease, [lease], [owner, token ?? ""])) === 1;
  }

  async getLease(leaseKey: string): Promise<LeaseInfo | null> {
    const [lease] = this.leaseKeys(leaseKey);
    const reply = await this.engine.runScript(scripts.getLease, [lease], []);
    if (!Array.isArray(reply)) return null;
    const [owner, token, acquiredAt, now, pttl] = reply as [string, number, number, number, number];
    return {
      owner,
      token,
      acquired_at: new Date(acquiredAt).toISOString(),
      expires_at: new Date(now + Math.max(pttl, 0)).toISOString(),
    };
  }

  /** Runs an atomic script; `keys` are given without the prefix and all must hash to one slot. */
  runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    return this.engine.runScript(script, this.scriptKeys(script, keys), args);
  }

  /**
   * runScript() for a change its caller will be told was accepted. With RedisConfig.waitReplicas
   * it runs on a connection of its own and answers only once that many replicas acknowledged it
   * (Redis WAIT); fewer within waitReplicasTimeoutMs reject it with ERR_NOT_REPLICATED (the
   * master has made the change: the same change sent again must be harmless). Without
   * waitReplicas, runScript().
   */
  runReplicatedScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    // Not an async function: without waitReplicas, a submit pays no promise more than runScript.
    const replicated = this.replicated;
    if (replicated === null) return this.runScript(script, keys, args);
    return this.runThenWait(replicated, script, this.scriptKeys(script, keys), args);
  }

  private async runThenWait(
    replicated: { engine: StoreEngine; wait: ReplicaWait },
    script: StoreScript,
    full: string[],
    args: (string | number)[],
  ): Promise<ScriptReply> {
    const reply = await replicated.engine.runScript(script, full, args);
    const { replicas, timeoutMs } = replicated.wait;
    const acknowledged = await replicated.engine.waitReplicas!(full[0] ?? "", replicas, timeoutMs);
    if (acknowledged < replicas) {
      throw storeUnavailable(
        "ERR_NOT_REPLICATED",
        `${acknowledged} of the ${replicas} replica(s) asked for (redis.waitReplicas) acknowledged the change within ${timeoutMs} ms: the Redis master at ${this.where} holds it, but could lose it if it failed now; send it again`,
      );
    }
    return reply;
  }

  private scriptKeys(script: StoreScript, keys: string[]): string[] {
    if (keys.length !== script.numKeys) {
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `script ${script.name} takes ${script.numKeys} keys, got ${keys.length}`,
      );
    }
    return keys.map((k) => this.key(k));
  }
}

function ttlToMs(ttlSeconds: number): number {
  if (typeof ttlSeconds !== "number" || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new TriadError(
      "ERR_INVALID_TTL",
      `a TTL must be a positive number of seconds (got ${String(ttlSeconds)})`,
    );
  }
  return Math.max(1, Math.round(ttlSeconds * 1000));
}

function checkOwner(owner: string): void {
  if (typeof owner !== "string" || owner.length === 0) {
    throw new TriadError(
      "ERR_INVALID_ARGUMENT",
      `a lease owner must be a non-empty string (got ${JSON.stringify(owner)})`,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
