import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputLedger } from "../../src/agents/input/input-ledger.js";
import { type NewTask, TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import { DueSweeper } from "../../src/agents/schedule-controls/due-sweeper.js";
import { delayUntil, type ScheduleKeys } from "../../src/agents/schedule-controls/task-schedule.js";
import { type CascadeItem, CascadeLedger } from "../../src/agents/workflow/cascade-ledger.js";
import type { RedisClient } from "../../src/index.js";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import { advanceClock, type Dump, dump, ENGINES, twinStoresOfFile } from "../helpers/fuzz/twin-stores.js";

/**
 * The ledger's indexes agree with its records' statuses, whatever the sequence of steps: random
 * submits (with a run_at or expires_at ahead or past, dependencies, a distributor or none),
 * assigns, attempts run early or on time, commits (completed, a retry, failed for good, a wait
 * for input), requeues, cancels (alone, or cascading to dependents), dependency notices, input given or run out, due sweeps and the
 * clock moving on, each through the real APIs on memory:// and on a redis-server of the test's
 * own. After every step each engine's whole keyspace is read and, for every shard:
 *
 * - the open-task index (its buckets and its set) holds exactly the open tasks (pending,
 *   in_progress, input_required);
 * - `delayed` holds only tasks pending that never started, with a run_at: never one running,
 *   waiting for input, or ended;
 * - `expiring` holds exactly the tasks pending that never started and have an expires_at;
 * - `waiting` holds exactly the tasks with a `wait:<id>` set, all pending;
 * - `input_due` holds exactly the tasks waiting for input;
 * - `dist:<d>` holds exactly the tasks pending or in progress whose record names distributor d;
 * - every id in an index has a record.
 *
 * FUZZ_RUNS, FUZZ_SEED and FUZZ_SHRINK as in every fuzz suite (test/helpers/fuzz/inputs.ts).
 */

const IDS = ["a", "b", "c", "7"];
const DISTS = ["d1", "d2"];
const OPEN = new Set(["pending", "in_progress", "input_required"]);

type TaskGen = { id: string; deps: string[]; runAtIn?: number; expiresIn?: number; dist: string };
type Op =
  | { op: "submit"; tasks: TaskGen[] }
  | { op: "assign"; id: string; dist: string }
  | { op: "start"; id: string }
  | { op: "commit"; id: string; outcome: "completed" | "retry" | "failed" | "input" }
  | { op: "requeue"; id: string }
  | { op: "abandon"; id: string }
  | { op: "cascade"; id: string }
  | { op: "notify"; id: string; status: "completed" | "failed" }
  | { op: "input"; id: string }
  | { op: "expireInputs" }
  | { op: "sweep" }
  | { op: "tick"; ms: number };

const id = fc.constantFrom(...IDS);
const taskGen: fc.Arbitrary<TaskGen> = fc.record(
  {
    id,
    deps: fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      { weight: 2, arbitrary: fc.uniqueArray(id, { minLength: 1, maxLength: 2 }) },
    ),
    runAtIn: fc.constantFrom(-1000, 500, 3000, 60_000),
    expiresIn: fc.constantFrom(-1000, 1000, 4000, 60_000),
    dist: fc.constantFrom("", ...DISTS),
  },
  { requiredKeys: ["id", "deps", "dist"] },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("submit" as const),
      tasks: fc.array(taskGen, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("assign" as const), id, dist: fc.constantFrom(...DISTS) }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("start" as const), id }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("commit" as const),
      id,
      outcome: fc.constantFrom("completed" as const, "retry" as const, "failed" as const, "input" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("requeue" as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("abandon" as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cascade" as const), id }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("notify" as const),
      id,
      status: fc.constantFrom("completed" as const, "failed" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("input" as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("expireInputs" as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("sweep" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("tick" as const), ms: fc.constantFrom(1, 700, 2000, 5000) }),
  },
);

type Side = {
  client: RedisClient;
  ledger: TaskLedger;
  input: InputLedger;
  cascade: CascadeLedger;
  sweeper: DueSweeper;
};

function side(client: RedisClient): Side {
  const ledger = new TaskLedger(client);
  return {
    client,
    ledger,
    input: new InputLedger(client, ledger),
    cascade: new CascadeLedger(client, ledger),
    sweeper: new DueSweeper({
      store: client,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: () => {},
      expired: () => {},
    }),
  };
}

function newTask(t: TaskGen): NewTask {
  const now = Date.now();
  const schedule: ScheduleKeys = {};
  if (t.runAtIn !== undefined) schedule.run_at = new Date(now + t.runAtIn).toISOString();
  if (t.expiresIn !== undefined) schedule.expires_at = new Date(now + t.expiresIn).toISOString();
  const scheduled = t.runAtIn !== undefined || t.expiresIn !== undefined;
  return {
    taskId: t.id,
    taskType: "echo",
    payload: {},
    createdAt: new Date(now).toISOString(),
    maxRetries: 1,
    backoffMs: 0,
    inputTimeoutMs: 1,
    ...(t.deps.length > 0 ? { dependsOn: t.deps } : {}),
    ...(scheduled ? { schedule, delayUntil: delayUntil(schedule, now) } : {}),
  };
}

/** One step on one engine, as the agents take it (the fence and distributor read from the record). */
async function step(s: Side, o: Op): Promise<void> {
  const record = "id" in o ? await s.ledger.get(o.id) : null;
  switch (o.op) {
    case "submit":
      for (const t of o.tasks) {
        // With dependencies or a run_at ahead, the coordinator offers no distributor.
        const task = newTask(t);
        if (!(await s.ledger.submit(task, task.dependsOn || task.delayUntil ? "" : t.dist))) continue;
        for (const dep of t.deps) {
          const status = await s.ledger.watchDependency(dep, t.id);
          if (status !== "") await s.ledger.notifyDependencyEnded(t.id, dep, status);
        }
      }
      return;
    case "assign":
      await s.ledger.assign(o.id, o.dist);
      return;
    case "start":
      // On the distributor that holds it: before its run_at this is assignTaskToWorker's path.
      if (record?.distributor) await s.ledger.dispatch(o.id, record.distributor, "w1");
      return;
    case "commit": {
      if (record?.task.status !== "in_progress") return;
      const base = { taskId: o.id, fence: record.fence };
      if (o.outcome === "completed") await s.ledger.commit({ ...base, status: "completed", result: 1 });
      else if (o.outcome === "input")
        await s.ledger.commit({ ...base, status: "input_required", inputKey: "k", inputRequest: { q: 1 } });
      else
        await s.ledger.commit({
          ...base,
          status: "failed",
          error: "boom",
          ...(o.outcome === "failed" ? { retry: false as const } : {}),
        });
      return;
    }
    case "requeue":
      if (record?.distributor) await s.ledger.requeue(o.id, record.distributor, record.fence);
      return;
    case "abandon":
      await s.ledger.abandon(o.id, "canceled by client");
      return;
    case "cascade": {
      // A cancel and its cascade to the task's dependents, walked to the end as the workflow keeper walks it.
      if (!(await s.cascade.mark(o.id, "canceled by client"))) return;
      let items: CascadeItem[] = [{ taskId: o.id, reason: "", parent: "" }];
      let held: string[] = [];
      while (items.length > 0) {
        const w = await s.cascade.walk(items, 100, s.ledger.retentionMs);
        await Promise.all(held.map((h) => s.cascade.done(h)));
        held = w.held;
        items = [...w.rest.map((taskId) => ({ taskId, reason: "", parent: "" })), ...w.foreign];
      }
      await Promise.all(held.map((h) => s.cascade.done(h)));
      return;
    }
    case "notify": {
      // The dependent's first open dependency ended (as the workflow keeper tells it).
      const dep = [...(record?.task.waiting_on ?? [])].sort()[0];
      if (dep !== undefined) await s.ledger.notifyDependencyEnded(o.id, dep, o.status);
      return;
    }
    case "input":
      await s.input.provide(o.id, { answer: 1 });
      return;
    case "expireInputs":
      await s.input.expire();
      return;
    case "sweep":
      await s.sweeper.sweep();
      return;
    case "tick":
      return;
  }
}

/** Members of a set or zset, fields of a hash. */
function membersOf(entry: Dump[string]): string[] {
  if (entry.type === "set") return entry.value as string[];
  if (entry.type === "zset") return (entry.value as [string, number][]).map(([m]) => m);
  if (entry.type === "hash") return Object.keys(entry.value as Record<string, string>);
  return [];
}

/** Every disagreement between a shard's indexes and its records, as readable lines (none: agreed). */
function disagreements(d: Dump): string[] {
  type Shard = {
    records: Map<string, Record<string, string>>;
    index: Map<string, Set<string>>;
    waits: Set<string>;
  };
  const shards = new Map<string, Shard>();
  const shardOf = (tag: string) => {
    let s = shards.get(tag);
    if (s === undefined) {
      s = { records: new Map(), index: new Map(), waits: new Set() };
      shards.set(tag, s);
    }
    return s;
  };
  const indexed = (s: Shard, name: string, members: string[]) => {
    const set = s.index.get(name) ?? new Set<string>();
    for (const m of members) set.add(m);
    s.index.set(name, set);
  };
  for (const [key, entry] of Object.entries(d)) {
    const m = /^(\{t\d+\}:)(.*)$/.exec(key);
    if (m === null) continue;
    const s = shardOf(m[1]!);
    const name = m[2]!;
    if (name.startsWith("task:")) s.records.set(name.slice(5), entry.value as Record<string, string>);
    else if (name.startsWith("wait:")) s.waits.add(name.slice(5));
    else if (name === "open" || /^open:\d+:\d+$/.test(name)) indexed(s, "open", membersOf(entry));
    else if (["delayed", "expiring", "waiting", "input_due"].includes(name) || name.startsWith("dist:"))
      indexed(s, name, membersOf(entry));
  }
  const out: string[] = [];
  for (const [tag, s] of shards) {
    const has = (name: string, taskId: string) => s.index.get(name)?.has(taskId) ?? false;
    for (const [name, members] of s.index)
      for (const m of members)
        if (!s.records.has(m)) out.push(`${tag}${name} holds ${m}, which has no record`);
    for (const [taskId, r] of s.records) {
      const status = r.status ?? "";
      const neverStarted = status === "pending" && Number(r.attempts ?? 0) === 0;
      const checks: Array<[string, boolean, boolean]> = [
        ["open", has("open", taskId), OPEN.has(status)],
        ["expiring", has("expiring", taskId), neverStarted && r.expires_at !== undefined],
        ["waiting", has("waiting", taskId), s.waits.has(taskId)],
        ["input_due", has("input_due", taskId), status === "input_required"],
      ];
      for (const [name, held, expected] of checks)
        if (held !== expected)
          out.push(`${tag}${name} ${held ? "holds" : "lacks"} ${taskId} (${JSON.stringify(r)})`);
      if (has("delayed", taskId) && !(neverStarted && r.run_at !== undefined))
        out.push(`${tag}delayed holds ${taskId} (${JSON.stringify(r)})`);
      if (s.waits.has(taskId) && status !== "pending")
        out.push(`${tag}wait:${taskId} exists (${JSON.stringify(r)})`);
      for (const [name, members] of s.index)
        if (
          name.startsWith("dist:") &&
          members.has(taskId) !==
            (r.distributor === name.slice(5) && (status === "pending" || status === "in_progress"))
        )
          out.push(
            `${tag}${name} ${members.has(taskId) ? "holds" : "lacks"} ${taskId} (${JSON.stringify(r)})`,
          );
      if (
        r.distributor &&
        (status === "pending" || status === "in_progress") &&
        !has(`dist:${r.distributor}`, taskId)
      )
        out.push(`${tag}dist:${r.distributor} lacks ${taskId} (${JSON.stringify(r)})`);
    }
  }
  return out;
}

const stores = twinStoresOfFile();

describe("the ledger's indexes and its records' statuses", () => {
  const runs = fuzzRuns(60);
  it(
    "agree after every step, on memory:// and on Redis",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 6, maxLength: 40 }), async (ops) => {
          await stores.run("ledger-indexes", side, ops, async (o, sides, log) => {
            if (o.op === "tick") advanceClock(o.ms);
            for (const engine of ENGINES) {
              await step(sides[engine], o);
              const found = disagreements(await dump(sides[engine].client));
              expect(found, `on ${engine}, after:\n${log.join("\n")}`).toEqual([]);
            }
          });
        }),
        fuzzParams(runs),
      );
    },
    fuzzTimeout(runs),
  );
});
