import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorView } from "../../src/agents/coordinator/coordinator-peers.js";
import { GoneRecord } from "../../src/agents/coordinator/gone-coordinators.js";
import type { MemoryKeyspace, RedisClient, StoreScript } from "../../src/index.js";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import {
  type Dump,
  dump,
  ENGINES,
  type EngineName,
  onBoth,
  setRaw,
  TwinStores,
  withoutMessage,
} from "../helpers/fuzz/twin-stores.js";
import { sleep } from "../helpers/wait.js";

/**
 * The engine-twin fuzz (as test/fuzz/engine-twins.test.ts) of the several-coordinators record of
 * gone coordinators: gone-coordinators-1.lua against its memory:// twin
 * (gone-coordinators-scripts.ts), driven through GoneRecord (went, alive, read) with random
 * retentions and bounds, and entries written over by hand (unreadable, ancient, odd `at`s) as
 * another release or a damaged store might leave them. After every step the answers and a raw
 * dump of both keyspaces must be equal.
 *
 * The script reads the engine's own clock (Redis TIME; the twin's MemoryKeyspace.timeMs(), which is
 * Date.now()): the clock is not faked here, both are the host's, and every step starts at least
 * 2 ms after the last. A read's retention is either 1 ms (everything recorded before this step
 * has aged out, on both) or an hour or more (nothing has), a write's an hour or more, so no step
 * depends on which engine ran first.
 * Normalised: an entry's `at` written from the clock (compared as its order among the entries,
 * and checked to be the engine's now), the `now` a read answers, a listed coordinator's age.
 */

const stores = new TwinStores();
beforeAll(() => stores.setup(), 60_000);
afterAll(() => stores.teardown());

const GONE_KEY = "coordinators:gone";

const ID = fc.constantFrom("c1", "c2", "7", "c-ü", 'c"q');
/** A read's retention; a write's is never 1 ms (the key would expire 1 ms after it, between the two engines' dumps). */
const RETENTION = fc.constantFrom(1, 3_600_000, 1e13);
const WRITE_RETENTION = fc.constantFrom(3_600_000, 1e13);
/** Entries written by hand: `at` fixed (not the clock), so they are compared as written. */
const RAW = fc.constantFrom(
  "not json",
  "",
  "[1]",
  '{"at":"x"}',
  '{"stopped":true}',
  '{"at":1}',
  '{"at":1.5,"stopped":true,"view":{"id":"c1"}}',
  '{"at":-2,"stopped":false,"view":{"id":"c2","url":"http://x"}}',
  '{"at":4102444800000,"stopped":false,"view":{"id":"7","stats":{"completed":3}}}',
  '{"at":4102444800000.5,"stopped":"yes","view":{"id":"c-ü"}}',
  '{"at":4102444800000,"view":{"id":"other"}}',
);
const STR = fc.constantFrom("", "http://h:1", "ü/ß", 'q"uote\\', "line\nbreak", "😀");

type GoneOp =
  | {
      op: "went";
      id: string;
      stopped: boolean;
      retention: number;
      max: number;
      url: string | null;
      startedAt: string;
      stats: Record<string, number>;
      stopping: boolean;
    }
  | { op: "alive"; ids: string[] }
  | { op: "read"; retention: number }
  | { op: "raw"; id: string; raw: string };

const goneOps: fc.Arbitrary<GoneOp[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("went" as const),
        id: ID,
        stopped: fc.boolean(),
        retention: WRITE_RETENTION,
        max: fc.constantFrom(1, 2, 3, 1000),
        url: fc.option(STR, { nil: null }),
        startedAt: STR,
        stats: fc.dictionary(
          fc.constantFrom("completed", "failed", "x"),
          fc.constantFrom(0, 1, 2.5, -1, 1e21),
        ),
        stopping: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant("alive" as const), ids: fc.array(ID, { maxLength: 3 }) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("read" as const), retention: RETENTION }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("raw" as const), id: ID, raw: RAW }) },
  ),
  { minLength: 3, maxLength: 20 },
);

/** The `at` values the clock wrote in a dump's gone hash, as their rank among the entries; each checked against the engine's now. */
function normalised(d: Dump, clockAts: Set<number>, engine: EngineName): Dump {
  const entry = d[GONE_KEY];
  if (entry === undefined) return d;
  const fields = entry.value as Record<string, string>;
  const ranks = [...clockAts].sort((a, b) => a - b);
  const out: Record<string, string> = {};
  for (const [id, raw] of Object.entries(fields)) {
    const m = /^\{"at":(-?\d+),/.exec(raw);
    const at = m === null ? Number.NaN : Number(m[1]);
    out[id] = clockAts.has(at)
      ? raw.replace(/^\{"at":-?\d+,/, `{"at":"<clock #${ranks.indexOf(at)}>",`)
      : raw;
    if (clockAts.has(at))
      expect(Math.abs(at - Date.now()), `${engine}: ${id}'s at is its clock's`).toBeLessThan(600_000);
  }
  return { ...d, [GONE_KEY]: { ...entry, value: out } };
}

async function runGone(ops: GoneOp[]): Promise<void> {
  const { clients } = await stores.open("engine-twins-gone");
  const log: string[] = [];
  /** Per engine, the `at`s its clock wrote (those of entries written by hand are compared as they are). */
  const clockAts: Record<EngineName, Set<number>> = { memory: new Set(), redis: new Set() };
  try {
    for (const op of ops) {
      log.push(JSON.stringify(op));
      await sleep(2); // every entry recorded before this step is older than a 1 ms retention, on both
      const answers = await onBoth(clients, async (c: RedisClient, engine) => {
        switch (op.op) {
          case "went": {
            const view: CoordinatorView = {
              id: op.id,
              url: op.url,
              started_at: op.startedAt,
              shards: [1, 2],
              stats: op.stats,
              distributors: [],
              ...(op.stopping ? { stopping: true as const } : {}),
            };
            const before = Date.now();
            await new GoneRecord(c, () => op.retention, op.max).went(view, op.stopped);
            // The entry's at: the clock's now, unless it kept an earlier sighting's.
            const raw = (await c.runScript(goneReadRaw, [GONE_KEY], [op.id])) as string | null;
            const at = raw === null ? Number.NaN : Number(/^\{"at":(-?\d+),/.exec(raw)?.[1]);
            if (at >= before && at <= Date.now()) clockAts[engine].add(at);
            return "done";
          }
          case "alive":
            return new GoneRecord(c, () => 1).alive(op.ids);
          case "read": {
            const listed = await new GoneRecord(c, () => op.retention).read();
            for (const g of listed) expect(g.ageMs).toBeGreaterThanOrEqual(0);
            return listed
              .map((g) => ({ view: g.view, stopped: g.stopped }))
              .sort((a, b) => (a.view.id < b.view.id ? -1 : a.view.id > b.view.id ? 1 : 0));
          }
          case "raw":
            return c.runScript(setRaw, [GONE_KEY], [op.id, op.raw]);
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(clients, async (c: RedisClient, engine) => {
        // The key's time to live, by the retention that set it (its exact value is the engine's clock).
        const pttl = Number(await c.runScript(gonePttl, [GONE_KEY], []));
        const ttl = pttl < 0 ? "none" : pttl <= 3_600_000 ? "an hour at most" : "longer";
        return { keys: normalised(await dump(c), clockAts[engine], engine), ttl };
      });
      same(log, `the raw keyspace after ${op.op}`, dumps);
    }
  } finally {
    await Promise.all(ENGINES.map((e) => clients[e].disconnect()));
  }
}

/** Reads one field of the gone hash as stored (test-only). */
const GET_RAW = "return redis.call('HGET', KEYS[1], ARGV[1])";
const goneReadRaw: StoreScript = {
  name: "twin-get-raw",
  numKeys: 1,
  lua: GET_RAW,
  sha1: createHash("sha1").update(GET_RAW).digest("hex"),
  memory: (db: MemoryKeyspace, [key], [field]) => db.hget(key!, field!),
};

/** The gone hash's PTTL (test-only). */
const PTTL = "return redis.call('PTTL', KEYS[1])";
const gonePttl: StoreScript = {
  name: "twin-pttl",
  numKeys: 1,
  lua: PTTL,
  sha1: createHash("sha1").update(PTTL).digest("hex"),
  memory: (db: MemoryKeyspace, [key]) => db.pttl(key!),
};

function same(log: string[], what: string, both: Record<EngineName, unknown>): void {
  expect(
    withoutMessage(both.memory),
    `${what} differs (memory vs redis)\nsteps so far:\n${log.join("\n")}\nredis said: ${JSON.stringify(both.redis)}\nmemory said: ${JSON.stringify(both.memory)}`,
  ).toEqual(withoutMessage(both.redis));
}

describe("engine twins: the several-coordinators scripts answer and write the same on both engines", () => {
  it(
    "gone coordinators (gone-coordinators-1.lua)",
    async () => {
      await fc.assert(fc.asyncProperty(goneOps, runGone), fuzzParams(fuzzRuns(50)));
    },
    fuzzTimeout(fuzzRuns(50), 3000),
  );
});
