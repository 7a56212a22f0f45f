import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, vi } from "vitest";
import { dropMemoryServer, type MemoryKeyspace, RedisClient, type StoreScript } from "../../../src/index.js";
import { testRedis, uniquePrefix } from "../redis-server.js";

/**
 * Two stores driven in lock step for the engine-twin fuzz (test/fuzz/engine-twins*.test.ts): the
 * embedded memory:// engine, whose scripts are the TypeScript twins, and a redis-server of the
 * test's own, which runs the Lua. Each run gets a fresh key prefix, the same on both, so that a
 * raw dump of either keyspace can be compared key by key.
 */

export type EngineName = "memory" | "redis";
export const ENGINES: EngineName[] = ["memory", "redis"];

/**
 * The caller's clock: Date is faked (only Date: timers, performance.now and the sockets run as
 * usual) so that every "now" the APIs take from Date.now() / new Date() is the same for both
 * stores. What a script reads from the engine's own clock (Redis TIME; MemoryKeyspace.timeMs()
 * is Date.now(), so the faked clock) cannot be the same: those values are normalised where they
 * are compared, and checked against each engine's own clock instead.
 */
export const CLOCK_BASE = Date.UTC(2031, 0, 1);

export function fakeClock(): void {
  vi.useFakeTimers({ toFake: ["Date"], now: CLOCK_BASE });
}

export function realClock(): void {
  vi.useRealTimers();
}

export function advanceClock(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

export class TwinStores {
  private url = "";
  private close: () => Promise<void> = async () => {};
  readonly memoryName = `engine-twins-${process.pid}`;

  async setup(): Promise<void> {
    const r = await testRedis();
    this.url = r.url;
    this.close = r.close;
  }

  async teardown(): Promise<void> {
    dropMemoryServer(this.memoryName);
    await this.close();
  }

  /**
   * One fuzz run on both engines in lock step: the caller's clock faked, fresh clients under one
   * prefix, each engine's side made by `side`; `step` takes each op in turn with the log of the
   * ops so far (its own last), for a failure to name. Both clients are closed after, the clock
   * made real.
   */
  async run<S, O>(
    suite: string,
    side: (client: RedisClient) => S,
    ops: readonly O[],
    step: (op: O, sides: Record<EngineName, S>, log: string[]) => Promise<void>,
  ): Promise<void> {
    fakeClock();
    const { clients } = await this.open(suite);
    const sides = { memory: side(clients.memory), redis: side(clients.redis) };
    const log: string[] = [];
    try {
      for (const op of ops) {
        log.push(JSON.stringify(op));
        await step(op, sides, log);
      }
    } finally {
      await Promise.all(ENGINES.map((e) => clients[e].disconnect()));
      realClock();
    }
  }

  /** Connected clients on both engines under one fresh prefix. */
  async open(suite: string): Promise<{ prefix: string; clients: Record<EngineName, RedisClient> }> {
    const prefix = uniquePrefix(suite);
    const memory = new RedisClient({ url: `memory://${this.memoryName}`, keyPrefix: prefix });
    const redis = new RedisClient({ url: this.url, keyPrefix: prefix });
    if (!(await memory.connect()) || !(await redis.connect())) throw new Error("twin stores: connect failed");
    return { prefix, clients: { memory, redis } };
  }
}

/** The twin stores of a test file: started before its tests, stopped after them, the clock made real after each. */
export function twinStoresOfFile(): TwinStores {
  const stores = new TwinStores();
  beforeAll(() => stores.setup(), 60_000);
  afterAll(async () => {
    realClock();
    await stores.teardown();
  });
  afterEach(() => realClock());
  return stores;
}

/** One key as a dump has it: type, value (hash: fields; set: sorted members; zset: [member, score] by score), whether it expires. */
export type DumpedKey = { type: string; value: unknown; expires: boolean };
export type Dump = Record<string, DumpedKey>;

const DUMP_LUA = `
local seen, out = {}, {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1] .. '*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if not seen[k] then
      seen[k] = true
      local t = redis.call('TYPE', k).ok
      local v
      if t == 'string' then v = {redis.call('GET', k)}
      elseif t == 'hash' then v = redis.call('HGETALL', k)
      elseif t == 'set' then v = redis.call('SMEMBERS', k)
      elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
      else v = {} end
      out[#out + 1] = {k, t, v, redis.call('PTTL', k)}
    end
  end
until cursor == '0'
return out`;

type MemoryEntries = Map<string, { type: string }>;

/**
 * Every key under a prefix, read in one script call on either engine (test-only: its memory
 * side reads MemoryKeyspace's private map of entries to list the keys).
 */
export const dumpScript: StoreScript = {
  name: "twin-dump",
  numKeys: 1,
  lua: DUMP_LUA,
  sha1: createHash("sha1").update(DUMP_LUA).digest("hex"),
  memory: (db: MemoryKeyspace, _keys, [prefix]) => {
    const entries = (db as unknown as { entries: unknown }).entries;
    if (!(entries instanceof Map)) throw new Error("MemoryKeyspace has no `entries` map: update dumpScript");
    const out: unknown[] = [];
    for (const [key, entry] of [...(entries as MemoryEntries)]) {
      if (!key.startsWith(prefix!) || !db.exists(key)) continue;
      const type = entry.type;
      let value: unknown;
      if (type === "string") value = [db.get(key)];
      else if (type === "hash") value = Object.entries(db.hgetall(key)).flat();
      else if (type === "set") value = db.smembers(key);
      else value = db.zrangeByScore(key, Number.POSITIVE_INFINITY).flatMap(([m, s]) => [m, String(s)]);
      out.push([key, type, value, db.pttl(key)]);
    }
    return out as never;
  },
};

/** Writes one field of a hash as given (test-only: an entry another release, a damaged store or a test chose). */
const SET_RAW = "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])";
export const setRaw: StoreScript = {
  name: "twin-set-raw",
  numKeys: 1,
  lua: SET_RAW,
  sha1: createHash("sha1").update(SET_RAW).digest("hex"),
  memory: (db: MemoryKeyspace, [key], [field, value]) => db.hset(key!, { [field!]: value! }),
};

export async function dump(client: RedisClient): Promise<Dump> {
  const rows = (await client.engine.runScript(
    dumpScript,
    [`${client.keyPrefix}dump`],
    [client.keyPrefix],
  )) as [string, string, string[], number][];
  const out: Dump = {};
  for (const [key, type, flat, pttl] of rows) {
    const name = key.slice(client.keyPrefix.length);
    let value: unknown;
    if (type === "string") value = flat[0];
    else if (type === "hash") {
      const h: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
      value = h;
    } else if (type === "set") value = [...flat].sort();
    else {
      const pairs: [string, number][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1])]);
      value = pairs;
    }
    out[name] = { type, value, expires: pttl >= 0 };
  }
  return sortKeys(out);
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Sorted copy: for what comes from a Redis set, whose order is the engine's own (an intset is sorted, a hashtable is not). */
export function sorted<T>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => {
    const x = JSON.stringify(a);
    const y = JSON.stringify(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * Runs `step` on both engines, one after the other (memory first), and answers both results;
 * a throw becomes { threw: true } (the messages are the engines' own and are not compared).
 */
export async function onBoth<S, R>(
  sides: Record<EngineName, S>,
  step: (side: S, engine: EngineName) => Promise<R>,
): Promise<Record<EngineName, R | { threw: true; message: string }>> {
  const out = {} as Record<EngineName, R | { threw: true; message: string }>;
  for (const engine of ENGINES) {
    try {
      out[engine] = await step(sides[engine], engine);
    } catch (err) {
      out[engine] = { threw: true, message: String((err as Error)?.message ?? err) };
    }
  }
  return out;
}

/** A throw's message is the engine's own: compare only that it threw. */
export function withoutMessage(value: unknown): unknown {
  if (typeof value === "object" && value !== null && (value as { threw?: boolean }).threw === true)
    return { threw: true };
  return value;
}
