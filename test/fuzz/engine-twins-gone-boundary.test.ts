import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { goneCoordinatorsScript } from "../../src/agents/coordinator/gone-coordinators-scripts.js";
import { type RedisClient, type StoreScript, withPrelude } from "../../src/index.js";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import {
  advanceClock,
  dump,
  ENGINES,
  type EngineName,
  onBoth,
  setRaw,
  twinStoresOfFile,
  withoutMessage,
} from "../helpers/fuzz/twin-stores.js";

/**
 * The retention boundary of the record of gone coordinators (gone-coordinators-1.lua and its
 * twin in gone-coordinators-scripts.ts): an entry exactly a retention old is kept (read, and a
 * new sighting keeps its time); one a millisecond older is dropped (and a new sighting is
 * stamped now). test/fuzz/engine-twins-coordinators.test.ts runs on the engines' own clocks,
 * which never land on the boundary; here both engines run on one clock that the test sets: the
 * caller's Date is faked (the twin's MemoryKeyspace.timeMs() reads it) and the Lua runs with a
 * prelude whose `redis.call('TIME')` answers the same instant (the script's own text unchanged
 * after it). Steps move the clock by 0, 1 ms, or a retention less one, exact, or plus one, so
 * entries are read and written over at the boundary; answers and raw keyspaces must be equal,
 * exactly (no clock value to normalise). Retentions are hours: keys expire on the engines' real
 * clocks and none does during a run.
 */

const stores = twinStoresOfFile();

const GONE_KEY = "coordinators:gone";
const HOUR = 3_600_000;

/** gone-coordinators-1.lua as it runs at `nowMs` (epoch ms): TIME answers that instant. */
function atTime(nowMs: number): StoreScript {
  const s = Math.floor(nowMs / 1000);
  const us = (nowMs - s * 1000) * 1000;
  return withPrelude(
    goneCoordinatorsScript,
    `local real_redis = redis
local redis = setmetatable({ call = function(cmd, ...)
  if cmd == 'TIME' then return { '${s}', '${us}' } end
  return real_redis.call(cmd, ...)
end }, { __index = real_redis })`,
  );
}

const view = (id: string) =>
  JSON.stringify({ id, url: null, started_at: "", shards: [], stats: {}, distributors: [] });
const entry = (id: string, at: number, stopped = false) =>
  `{"at":${at},"stopped":${stopped},"view":${view(id)}}`;

/** Runs the script at the faked clock's now on `c`. */
function run(c: RedisClient, args: Array<string | number>): Promise<unknown> {
  return c.runScript(atTime(Date.now()), [GONE_KEY], args);
}

const went = (c: RedisClient, retention: number, id: string, stopped = false, max = 1000) =>
  run(c, ["went", retention, max, id, stopped ? "1" : "0", view(id)]);
const read = (c: RedisClient, retention: number) => run(c, ["read", retention]);
/** The ids a read lists, sorted. */
async function listed(c: RedisClient, retention: number): Promise<string[]> {
  const reply = (await read(c, retention)) as unknown[];
  return reply
    .filter((_, i) => i % 2 === 1)
    .map(String)
    .sort();
}
async function rawAt(c: RedisClient, id: string): Promise<number | null> {
  const h = (await dump(c))[GONE_KEY]?.value as Record<string, string> | undefined;
  const raw = h?.[id];
  return raw === undefined ? null : Number(/^\{"at":(-?\d+),/.exec(raw)?.[1]);
}

type Op =
  | { op: "tick"; by: "0" | "1" | "R-1" | "R" | "R+1" }
  | { op: "went"; id: string; stopped: boolean; max: number }
  | { op: "alive"; ids: string[] }
  | { op: "read" }
  | { op: "raw"; id: string; age: "R+1" | "R" | "R-1" | "0" | "-1"; stopped: boolean };

const ID = fc.constantFrom("c1", "c2", "c3");
const AGE = fc.constantFrom("R+1" as const, "R" as const, "R-1" as const, "0" as const, "-1" as const);
const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("tick" as const),
        by: fc.constantFrom("0" as const, "1" as const, "R-1" as const, "R" as const, "R+1" as const),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("went" as const),
        id: ID,
        stopped: fc.boolean(),
        max: fc.constantFrom(1, 2, 1000),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("alive" as const), ids: fc.array(ID, { maxLength: 2 }) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("read" as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant("raw" as const), id: ID, age: AGE, stopped: fc.boolean() }),
    },
  ),
  { minLength: 3, maxLength: 25 },
);

function offset(by: string, retention: number): number {
  return by === "R+1" ? retention + 1 : by === "R" ? retention : by === "R-1" ? retention - 1 : Number(by);
}

async function runOps(retention: number, list: Op[]): Promise<void> {
  await stores.run(
    "engine-twins-gone-boundary",
    (c) => c,
    list,
    async (op, sides, log) => {
      if (op.op === "tick") {
        advanceClock(offset(op.by, retention));
        return;
      }
      const answers = await onBoth(sides, async (c: RedisClient) => {
        switch (op.op) {
          case "went":
            return went(c, retention, op.id, op.stopped, op.max);
          case "alive":
            return run(c, ["alive", ...op.ids]);
          case "read":
            return read(c, retention);
          case "raw":
            return c.runScript(
              setRaw,
              [GONE_KEY],
              [op.id, entry(op.id, Date.now() - offset(op.age, retention), op.stopped)],
            );
        }
      });
      same(log, retention, `the answer to ${op.op}`, answers);
      same(
        log,
        retention,
        `the raw keyspace after ${op.op}`,
        await onBoth(sides, (c: RedisClient) => dump(c)),
      );
    },
  );
}

function same(log: string[], retention: number, what: string, both: Record<EngineName, unknown>): void {
  expect(
    withoutMessage(both.memory),
    `${what} differs (memory vs redis), retention ${retention}\nsteps so far:\n${log.join("\n")}\nredis said: ${JSON.stringify(both.redis)}\nmemory said: ${JSON.stringify(both.memory)}`,
  ).toEqual(withoutMessage(both.redis));
}

describe("engine twins: the record of gone coordinators at its retention boundary", () => {
  it(
    "on one clock set by the test, both engines keep and drop the same entries, a step either side of the retention",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(HOUR, 2 * HOUR), ops, runOps),
        fuzzParams(fuzzRuns(50)),
      );
    },
    fuzzTimeout(fuzzRuns(50), 3000),
  );

  it.each(ENGINES)(
    "%s: an entry exactly a retention old is kept, one a millisecond older dropped",
    async (engine) => {
      await stores.run(
        "engine-twins-gone-boundary",
        (c) => c,
        [engine],
        async (name, sides) => {
          const c = sides[name];
          // Read: ages R-1, R, R+1 at one instant.
          for (const [id, age] of [
            ["young", HOUR - 1],
            ["edge", HOUR],
            ["old", HOUR + 1],
          ] as const)
            await c.runScript(setRaw, [GONE_KEY], [id, entry(id, Date.now() - age)]);
          expect(await listed(c, HOUR)).toEqual(["edge", "young"]);
          expect(await rawAt(c, "old")).toBeNull(); // dropped from the store, not only left out

          // A new sighting: one exactly a retention after the first keeps the first's time (and its stopped).
          const first = Date.now();
          await went(c, HOUR, "again", true);
          advanceClock(HOUR);
          await went(c, HOUR, "again");
          expect(await rawAt(c, "again")).toBe(first);
          expect((await dump(c))[GONE_KEY]?.value).toHaveProperty(
            "again",
            expect.stringContaining('"stopped":true'),
          );
          // ... and is still listed; a millisecond later it has aged out.
          expect(await listed(c, HOUR)).toContain("again");
          advanceClock(1);
          expect(await listed(c, HOUR)).not.toContain("again");

          // One a millisecond past the retention is a new sighting: stamped now, the old stop forgotten.
          const second = Date.now();
          await went(c, HOUR, "later", true);
          advanceClock(HOUR + 1);
          await went(c, HOUR, "later");
          expect(await rawAt(c, "later")).toBe(second + HOUR + 1);
          expect((await dump(c))[GONE_KEY]?.value).toHaveProperty(
            "later",
            expect.stringContaining('"stopped":false'),
          );
        },
      );
    },
  );
});
