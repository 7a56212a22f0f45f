import { describe, expect, it } from "vitest";
import { property, same } from "../helpers/fuzz/twin-checks.js";
import { type CommitGen, EDGES, ledgerOps, ORDINARY, type TaskGen } from "../helpers/fuzz/twin-ledger-ops.js";
import { ledgerRunner, ledgerSide, newTask } from "../helpers/fuzz/twin-ledger-run.js";
import { onBoth, twinStoresOfFile } from "../helpers/fuzz/twin-stores.js";

/**
 * Differential fuzz of every Lua script against its embedded-engine twin (defineScript,
 * src/core/store/script.ts): the same random sequence of operations goes through the real APIs
 * (TaskLedger, InputLedger, DueSweeper, CascadeLedger, ProgressWriter, LimitStore,
 * ScheduleStore, RedisClient's leases and transaction) on memory:// and on a redis-server of the
 * test's own; after every step each operation's answer, everything the APIs read back, and a raw
 * dump of both keyspaces (every key under the run's prefix: type, value, whether it expires)
 * must be equal.
 *
 * The caller's clock (Date) is faked and the same for both. Normalised, and only these:
 * - the order of what comes from a Redis set (waiting_on, dependents, id listings): a set has
 *   none, and Redis's is its own (an intset is sorted, a hashtable is not);
 * - values made from the engine's own clock (Redis TIME; the twin's MemoryKeyspace.timeMs(),
 *   which is Date.now()): an input_required deadline (checked instead against each engine's
 *   own input_due score and, on memory, the faked clock), a lease's acquired_at / expires_at,
 *   a limit reservation's time, a rate wait's length, report times, rate buckets, the clock a
 *   read answers;
 * - the text of an error (the engines word theirs differently): only whether a step threw.
 *
 * FUZZ_RUNS, FUZZ_SEED and FUZZ_SHRINK as in every fuzz suite (test/helpers/fuzz/inputs.ts).
 *
 * This file: the task ledger and the rooms that write task records (operations in
 * test/helpers/fuzz/twin-ledger-ops.ts, run by twin-ledger-run.ts). The other script families
 * have a file each: engine-twins-leases, engine-twins-limits, engine-twins-schedules (and
 * engine-twins-coordinators, ledger-indexes).
 */

const stores = twinStoresOfFile();
const runLedger = ledgerRunner(stores);

describe("engine twins: every Lua script and its memory:// twin answer and write the same", () => {
  const ledger = "task ledger, input, due sweep, progress, cancel cascade";
  it(`${ledger}: ordinary values`, ...property(ledgerOps(ORDINARY), runLedger, 12));
  it(`${ledger}: edge values the APIs accept`, ...property(ledgerOps(EDGES), runLedger, 12));
});

// --- the divergences this fuzz found (all mended), each as its minimal reproduction -------------

describe("engine twins: the divergences found, each as its minimal reproduction", () => {
  const plain = (over: Partial<TaskGen>): TaskGen => ({
    id: "a",
    type: "echo",
    payload: {},
    maxRetries: 2,
    backoffMs: 200,
    dependsOn: [],
    ...over,
  });
  const failed: CommitGen = {
    id: "a",
    fence: "current",
    status: "failed",
    result: null,
    error: "boom",
    inputKey: "",
    inputRequest: null,
    spawn: false,
    final: false,
  };

  it("a retry's not_before with more than 14 significant digits (backoffMs 1.25) is answered exactly", async () => {
    // commit-results-1.lua answered tostring(notBefore): Lua's %.14g, 1924992000001.2 for 1924992000001.25.
    await runLedger([
      { op: "submit", tasks: [plain({ backoffMs: 1.25 })], dist: "d1" },
      { op: "attempt", worker: "w1", outcome: failed },
    ]);
  });

  it("a retry's not_before past 1e14 (backoffMs 1e14) is answered exactly", async () => {
    // 1e14 + 1924992000001 = 101924992000001; %.14g answered 1.0192499200000e+14.
    await runLedger([
      { op: "tick", ms: 1 },
      { op: "submit", tasks: [plain({ backoffMs: 1e14 })], dist: "d1" },
      { op: "attempt", worker: "w1", outcome: failed },
    ]);
  });

  it("an input_required deadline past 1e14 (input_timeout_ms 1e15) is answered as recorded", async () => {
    await runLedger([
      { op: "submit", tasks: [plain({ inputTimeoutMs: 1e15 })], dist: "d1" },
      { op: "attempt", worker: "w1", outcome: { ...failed, status: "input_required" } },
    ]);
  });

  it("a task held by a distributor named '' leaves that distributor's set when it ends", async () => {
    // The twins skipped the SREM for "" (falsy in JS, true in Lua).
    await runLedger([
      { op: "submit", tasks: [plain({})], dist: "" },
      { op: "assign", ids: ["a"], dist: "", owner: "" },
      { op: "abandon", ids: ["a"], reason: "canceled by client", owner: "" },
    ]);
  });

  it("a task with 8,000 dependencies is recorded on both engines", async () => {
    const step = "submit join with 8,000 dependencies";
    await stores.run("engine-twins-deps", ledgerSide, [step], async (_, sides) => {
      const deps = Array.from({ length: 8000 }, (_, k) => `dep-${k}`);
      const task = newTask(plain({ id: "join", dependsOn: deps }));
      const answers = await onBoth(sides, (s) => s.ledger.submit(task));
      same([step], "the answer to submit", answers);
      const views = await onBoth(sides, async (s) => (await s.ledger.get("join"))?.task.waiting_on?.length);
      same([step], "waiting_on read back", views);
      // Lua's unpack() spread at most ~8,000 values: the whole submit failed on Redis.
      expect(answers.redis).toBe(true);
      expect(views.redis).toBe(8000);
    });
  });
});
