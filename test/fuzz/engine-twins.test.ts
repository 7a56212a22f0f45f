import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputLedger } from "../../src/agents/input/input-ledger.js";
import { type AttemptOutcome, type NewTask, TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import type { TaskTypeLimit } from "../../src/agents/limits/limit-spec.js";
import { LimitStore } from "../../src/agents/limits/limit-store.js";
import { ProgressWriter } from "../../src/agents/live/progress-writer.js";
import { DueSweeper } from "../../src/agents/schedule-controls/due-sweeper.js";
import { delayUntil, type ScheduleKeys } from "../../src/agents/schedule-controls/task-schedule.js";
import { type DueSchedule, ScheduleStore } from "../../src/agents/schedules/schedule-store.js";
import { CascadeLedger } from "../../src/agents/workflow/cascade-ledger.js";
import type { JsonObject, JsonValue, RedisClient } from "../../src/index.js";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import {
  advanceClock,
  type Dump,
  dump,
  type EngineName,
  onBoth,
  sorted,
  twinStoresOfFile,
  withoutMessage,
} from "../helpers/fuzz/twin-stores.js";

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
 */

const stores = twinStoresOfFile();

/** Asserts the two engines' answers for one step are equal; names the step and the step log when not. */
function same(log: string[], what: string, both: Record<EngineName, unknown>): void {
  const memory = withoutMessage(both.memory);
  const redis = withoutMessage(both.redis);
  expect(
    memory,
    `${what} differs (memory vs redis)\nsteps so far:\n${log.join("\n")}\nredis said: ${JSON.stringify(both.redis)}\nmemory said: ${JSON.stringify(both.memory)}`,
  ).toEqual(redis);
}

// --- the task ledger and the rooms that write task records ------------------------------------

/** Few ids, so that operations meet: numeric ones (a Redis intset), a spawn-style one, one past 64 bytes (the open set, not a bucket). */
const LONG_ID = `long-${"L".repeat(70)}`;
const IDS = ["a", "b", "7", "a.1", LONG_ID];
const DISTS = ["d1", "d2"];
const WORKERS = ["w1", "w2"];

type Values = {
  maxRetries: number[];
  backoffMs: number[];
  inputTimeoutMs: Array<number | undefined>;
  dists: string[];
};
/** What the coordinator sends day to day. */
const ORDINARY: Values = {
  maxRetries: [0, 1, 2, 3],
  backoffMs: [0, 10, 200, 1000],
  inputTimeoutMs: [undefined, 1, 3_600_000],
  dists: DISTS,
};
/**
 * Values the APIs accept that are rarely used: a fractional or huge backoff (RetryPolicy:
 * any finite number >= 0), many retries, a huge input_timeout_ms (the schema: any positive
 * integer), a distributor named "".
 */
const EDGES: Values = {
  maxRetries: [0, 2, 60],
  backoffMs: [0.1, 1.25, 200, 1e14],
  inputTimeoutMs: [undefined, 1, 1e15],
  dists: [...DISTS, ""],
};

type TaskGen = {
  id: string;
  type: string;
  payload: JsonObject;
  maxRetries: number;
  backoffMs: number;
  dependsOn: string[];
  policy?: "abandon" | "run";
  parent?: string;
  inputTimeoutMs?: number;
  schedule?: { priority?: number; runAtIn?: number; expiresIn?: number };
};
type Fence = "current" | "stale" | "next";
type CommitGen = {
  id: string;
  fence: Fence;
  status: AttemptOutcome["status"];
  result: JsonValue;
  error: string;
  inputKey: string;
  inputRequest: JsonValue;
  spawn: boolean;
  /** failed: the handler said another try cannot help (UnrecoverableError). */
  final: boolean;
};
type LedgerOp =
  | { op: "submit"; tasks: TaskGen[]; dist: string }
  | { op: "assign"; ids: string[]; dist: string; owner: string }
  | { op: "dispatch"; ids: string[]; dist: string; worker: string }
  /** dispatch, with each task's own distributor (as the ledger has it on memory://). */
  | { op: "start"; ids: string[]; worker: string }
  | { op: "commit"; items: CommitGen[] }
  /** One attempt of a pending task on its distributor: dispatch, then commit with the fence it got. */
  | { op: "attempt"; worker: string; outcome: CommitGen }
  | { op: "requeue"; id: string; dist: string | null; fence: Fence }
  | { op: "abandon"; ids: string[]; reason: string; owner: string }
  | { op: "watch"; dependency: string; dependent: string }
  | { op: "notify"; dependent: string; dependency: string; status: string }
  | { op: "settle"; id: string; spawned: string[] | null }
  | { op: "input"; id: string; value: JsonValue; question?: number }
  | { op: "expireInputs" }
  | { op: "sweep" }
  | { op: "tick"; ms: number }
  | { op: "progress"; id: string; fence: Fence; value: JsonValue }
  /** parent: the parent a mark requires ("" none; records are spawned by "a" or none). */
  | { op: "cascade"; id: string; step: "mark" | "done" | "again" | "walk" | "markWalk"; parent: string };

const smallJson: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: -5, max: 1000 }),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: "grapheme", maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }),
);
const payload: fc.Arbitrary<JsonObject> = fc.dictionary(fc.string({ maxLength: 4 }), smallJson, {
  maxKeys: 2,
});
const id = fc.constantFrom(...IDS);
const someIds = fc.uniqueArray(id, { minLength: 1, maxLength: 3 });
/**
 * A task by its state, resolved when the step runs (from the ledger on memory://): so that
 * sequences reach commits of running attempts, answers to waiting tasks, and so on.
 */
const BY_STATE = { "@running": "in_progress", "@pending": "pending", "@waiting": "input_required" } as const;
type ByState = keyof typeof BY_STATE;
const target = fc.oneof(
  { weight: 2, arbitrary: id },
  { weight: 3, arbitrary: fc.constant<ByState>("@running") },
  { weight: 1, arbitrary: fc.constant<ByState>("@pending") },
  { weight: 1, arbitrary: fc.constant<ByState>("@waiting") },
);
const someTargets = fc.uniqueArray(target, { minLength: 1, maxLength: 3 });
const fence: fc.Arbitrary<Fence> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("current" as const) },
  { weight: 1, arbitrary: fc.constant("stale" as const) },
  { weight: 1, arbitrary: fc.constant("next" as const) },
);

function ledgerOps(v: Values): fc.Arbitrary<LedgerOp[]> {
  const task: fc.Arbitrary<TaskGen> = fc.record(
    {
      id,
      type: fc.constantFrom("echo", "compute", "tâche"),
      payload,
      maxRetries: fc.constantFrom(...v.maxRetries),
      backoffMs: fc.constantFrom(...v.backoffMs),
      dependsOn: fc.oneof(
        { weight: 5, arbitrary: fc.constant<string[]>([]) },
        {
          weight: 2,
          arbitrary: fc.uniqueArray(fc.constantFrom(...IDS, "zz"), { minLength: 1, maxLength: 2 }),
        },
      ),
      policy: fc.constantFrom(undefined, "abandon", "run"),
      parent: fc.constantFrom(undefined, "a"),
      inputTimeoutMs: fc.constantFrom(...v.inputTimeoutMs),
      schedule: fc.option(
        fc.record(
          {
            priority: fc.integer({ min: 0, max: 9 }),
            runAtIn: fc.constantFrom(-5000, 0, 0, 2000, 60_000),
            expiresIn: fc.constantFrom(-1000, 3000, 60_000),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined, freq: 2 },
      ),
    },
    { requiredKeys: ["id", "type", "payload", "maxRetries", "backoffMs", "dependsOn"] },
  );
  const commit: fc.Arbitrary<CommitGen> = fc.record({
    id: target,
    fence,
    status: fc.oneof(
      { weight: 2, arbitrary: fc.constant("completed" as const) },
      { weight: 2, arbitrary: fc.constant("failed" as const) },
      { weight: 1, arbitrary: fc.constant("input_required" as const) },
    ),
    result: smallJson,
    error: fc.constantFrom("boom", "", "ünïcode \n error"),
    inputKey: fc.constantFrom("", "k1", "two\nlines"),
    inputRequest: smallJson,
    spawn: fc.boolean(),
    final: fc.boolean(),
  });
  const dist = fc.constantFrom(...v.dists);
  const op: fc.Arbitrary<LedgerOp> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant("submit" as const),
        tasks: fc.uniqueArray(task, { minLength: 1, maxLength: 3, selector: (t) => t.id }),
        dist: fc.constantFrom(...v.dists, ...v.dists, ""),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("assign" as const),
        ids: someIds,
        dist,
        owner: fc.constantFrom("", "", "", "not-the-owner"),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("dispatch" as const),
        ids: someIds,
        dist,
        worker: fc.constantFrom(...WORKERS),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("commit" as const),
        items: fc.uniqueArray(commit, { minLength: 1, maxLength: 2, selector: (c) => c.id }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("start" as const),
        ids: someTargets,
        worker: fc.constantFrom(...WORKERS),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("attempt" as const),
        worker: fc.constantFrom(...WORKERS),
        outcome: commit,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("requeue" as const),
        id: target,
        dist: fc.oneof(dist, fc.constant(null)),
        fence,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("abandon" as const),
        ids: someIds,
        reason: fc.constantFrom("canceled by client", "no distributor"),
        owner: fc.constantFrom("", "", "not-the-owner"),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("watch" as const), dependency: id, dependent: id }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("notify" as const),
        dependent: fc.oneof(id, fc.constant("@blocked")),
        dependency: fc.constantFrom(...IDS, "zz", "@its-dependency"),
        status: fc.constantFrom("completed", "failed", "abandoned", "unknown"),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("settle" as const),
        id: fc.oneof(id, fc.constant("@ended")),
        spawned: fc.constantFrom<string[] | null>(null, ["a.1"]),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          op: fc.constant("input" as const),
          id: target,
          value: smallJson,
          question: fc.constantFrom(0, 1),
        },
        { requiredKeys: ["op", "id", "value"] },
      ),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("expireInputs" as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("sweep" as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant("tick" as const), ms: fc.constantFrom(1, 500, 2500, 5000) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("progress" as const), id: target, fence, value: smallJson }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("cascade" as const),
        id,
        step: fc.constantFrom(
          "mark" as const,
          "done" as const,
          "again" as const,
          "walk" as const,
          "markWalk" as const,
        ),
        parent: fc.constantFrom("", "", "a", "b"),
      }),
    },
  );
  return fc.array(op, { minLength: 8, maxLength: 40 });
}

type LedgerSide = {
  client: RedisClient;
  ledger: TaskLedger;
  input: InputLedger;
  cascade: CascadeLedger;
  progress: ProgressWriter;
  sweeper: DueSweeper;
  swept: { released: string[]; expired: string[] };
};

function ledgerSide(client: RedisClient): LedgerSide {
  const ledger = new TaskLedger(client);
  const swept = { released: [] as string[], expired: [] as string[] };
  return {
    client,
    ledger,
    input: new InputLedger(client, ledger),
    cascade: new CascadeLedger(client, ledger),
    progress: new ProgressWriter({
      store: client,
      shards: ledger.shards,
      holds: async () => true,
      progressed: () => {},
    }),
    sweeper: new DueSweeper({
      store: client,
      shards: ledger.shards,
      retentionMs: ledger.retentionMs,
      released: (ids) => swept.released.push(...ids),
      expired: (ids) => swept.expired.push(...ids),
    }),
    swept,
  };
}

function newTask(t: TaskGen): NewTask {
  const now = Date.now();
  let schedule: ScheduleKeys | undefined;
  if (t.schedule !== undefined) {
    schedule = {};
    if (t.schedule.priority !== undefined) schedule.priority = t.schedule.priority;
    if (t.schedule.runAtIn !== undefined) schedule.run_at = new Date(now + t.schedule.runAtIn).toISOString();
    if (t.schedule.expiresIn !== undefined)
      schedule.expires_at = new Date(now + t.schedule.expiresIn).toISOString();
  }
  return {
    taskId: t.id,
    taskType: t.type,
    payload: t.payload,
    createdAt: new Date(now).toISOString(),
    maxRetries: t.maxRetries,
    backoffMs: t.backoffMs,
    ...(t.dependsOn.length > 0 ? { dependsOn: t.dependsOn } : {}),
    ...(t.policy !== undefined ? { onDependencyFailure: t.policy } : {}),
    ...(t.parent !== undefined ? { parentId: t.parent } : {}),
    ...(t.inputTimeoutMs !== undefined ? { inputTimeoutMs: t.inputTimeoutMs } : {}),
    ...(schedule !== undefined ? { schedule, delayUntil: delayUntil(schedule, now) } : {}),
  };
}

/** The fence a step names, from the record as memory:// has it (equal on both, or the last step failed). */
async function fenceOf(side: LedgerSide, taskId: string, which: Fence): Promise<number> {
  const current = (await side.ledger.get(taskId))?.fence ?? 0;
  return which === "current" ? current : which === "stale" ? current - 1 : current + 1;
}

function outcomeOf(c: CommitGen, fenceValue: number): AttemptOutcome {
  return {
    taskId: c.id,
    fence: fenceValue,
    status: c.status,
    result: c.result,
    error: c.error,
    inputKey: c.inputKey,
    inputRequest: c.inputRequest,
    ...(c.spawn ? { spawn: [{ task_id: "a.1", task_type: "echo", payload: {} }] } : {}),
    ...(c.final ? { retry: false as const } : {}),
  };
}

/** An input_required deadline, made from the engine's own clock: checked against its input_due score after the step. */
type Deadline = { engine: EngineName; taskId: string; deadline: number; timeoutMs: number; clockMs: number };

/** The ids of a step with each "@state" replaced by a task in that state on memory:// (else "a"), distinct. */
async function resolveIds(side: LedgerSide, ids: string[]): Promise<string[]> {
  const records = await Promise.all(IDS.map((i) => side.ledger.get(i)));
  const out: string[] = [];
  for (const i of ids) {
    let chosen = i;
    if (i in BY_STATE) {
      const want = BY_STATE[i as ByState];
      const fits = (k: number) => records[k]?.task.status === want && !out.includes(IDS[k]!);
      // A pending task on a distributor first (one that can start), then any.
      const k =
        want === "pending" ? IDS.findIndex((_, j) => fits(j) && records[j]?.distributor !== null) : -1;
      chosen = IDS[k >= 0 ? k : IDS.findIndex((_, j) => fits(j))] ?? "a";
    }
    if (!out.includes(chosen)) out.push(chosen);
  }
  return out;
}

async function ledgerStep(
  given: LedgerOp,
  sides: Record<EngineName, LedgerSide>,
  deadlines: Deadline[],
  log: string[],
): Promise<Record<EngineName, unknown>> {
  const op = await resolveOp(given, sides.memory);
  if (op !== given) log.push(`  resolved: ${JSON.stringify(op)}`);
  switch (op.op) {
    case "submit": {
      const tasks = op.tasks.map(newTask);
      return onBoth(sides, (s) => Promise.all(tasks.map((t) => s.ledger.submit(t, op.dist))));
    }
    case "assign":
      return onBoth(sides, (s) => Promise.all(op.ids.map((i) => s.ledger.assign(i, op.dist, op.owner))));
    case "dispatch":
      return onBoth(sides, (s) =>
        s.ledger.dispatchMany(
          op.ids,
          op.dist,
          (i) => i,
          () => op.worker,
        ),
      );
    case "commit": {
      const fences = await Promise.all(op.items.map((c) => fenceOf(sides.memory, c.id, c.fence)));
      const outcomes = op.items.map((c, k) => outcomeOf(c, fences[k]!));
      const timeouts = await Promise.all(
        op.items.map(async (c) => (await sides.memory.ledger.get(c.id))?.task.input_timeout_ms ?? 86_400_000),
      );
      const both = await onBoth(sides, async (s, engine) => {
        const receipts = await s.ledger.commitAttempts(outcomes);
        return receipts.map((r, k) => {
          if (r.verdict !== "input_required") return r;
          deadlines.push({
            engine,
            taskId: outcomes[k]!.taskId,
            deadline: r.notBefore!,
            timeoutMs: timeouts[k]!,
            clockMs: Date.now(),
          });
          return { ...r, notBefore: "<the engine's clock + input_timeout_ms>" };
        });
      });
      return both;
    }
    case "start": {
      const holders = await Promise.all(
        op.ids.map(async (i) => (await sides.memory.ledger.get(i))?.distributor ?? "d1"),
      );
      return onBoth(sides, (s) =>
        Promise.all(op.ids.map((i, k) => s.ledger.dispatch(i, holders[k]!, op.worker))),
      );
    }
    case "attempt": {
      const c = op.outcome;
      const holder = (await sides.memory.ledger.get(c.id))?.distributor ?? "d1";
      return onBoth(sides, async (s, engine) => {
        const verdict = await s.ledger.dispatch(c.id, holder, op.worker);
        if (typeof verdict !== "number") return { verdict };
        const f = c.fence === "current" ? verdict : c.fence === "stale" ? verdict - 1 : verdict + 1;
        const timeoutMs = (await s.ledger.get(c.id))?.task.input_timeout_ms ?? 86_400_000;
        const r = await s.ledger.commitAttempt(outcomeOf(c, f));
        if (r.verdict !== "input_required") return { verdict, receipt: r };
        deadlines.push({ engine, taskId: c.id, deadline: r.notBefore!, timeoutMs, clockMs: Date.now() });
        return { verdict, receipt: { ...r, notBefore: "<the engine's clock + input_timeout_ms>" } };
      });
    }
    case "requeue": {
      const f = await fenceOf(sides.memory, op.id, op.fence);
      const dist = op.dist ?? (await sides.memory.ledger.get(op.id))?.distributor ?? "d1";
      return onBoth(sides, (s) => s.ledger.requeue(op.id, dist, f));
    }
    case "abandon":
      return onBoth(sides, (s) => Promise.all(op.ids.map((i) => s.ledger.abandon(i, op.reason, op.owner))));
    case "watch":
      return onBoth(sides, (s) => s.ledger.watchDependency(op.dependency, op.dependent));
    case "notify":
      return onBoth(sides, (s) => s.ledger.notifyDependencyEnded(op.dependent, op.dependency, op.status));
    case "settle":
      return onBoth(sides, (s) => s.ledger.settleEnded(op.id, op.spawned));
    case "input":
      return onBoth(sides, (s) => s.input.provide(op.id, op.value, op.question));
    case "expireInputs":
      // 1 ms waits have run out on both clocks: the faked one (memory) and the real one (Redis TIME).
      advanceClock(3);
      await new Promise((r) => setTimeout(r, 3));
      return onBoth(sides, async (s) => {
        const { expired, waiting } = await s.input.expire();
        return { expired: sorted(expired), waiting };
      });
    case "sweep":
      return onBoth(sides, async (s) => {
        s.swept.released.length = 0;
        s.swept.expired.length = 0;
        await s.sweeper.sweep();
        return { released: sorted(s.swept.released), expired: sorted(s.swept.expired) };
      });
    case "tick":
      advanceClock(op.ms);
      return { memory: null, redis: null };
    case "progress": {
      const f = await fenceOf(sides.memory, op.id, op.fence);
      return onBoth(sides, (s) => s.progress.write({ task_id: op.id, fence: f, progress: op.value }));
    }
    case "cascade":
      if (op.step === "walk" || op.step === "markWalk") {
        // The whole walk (no limit cuts it): what it reaches does not hang on a set's order.
        const item = {
          taskId: op.id,
          reason: op.step === "walk" ? "" : "canceled by client",
          parent: op.parent,
        };
        return onBoth(sides, async (s) => {
          const w = await s.cascade.walk([item], 1000, 60_000);
          return {
            ...w,
            ended: w.ended.sort((a, b) => (a.task.task_id < b.task.task_id ? -1 : 1)),
            rest: sorted(w.rest),
          };
        });
      }
      return onBoth(sides, (s) =>
        op.step === "mark"
          ? s.cascade.mark(op.id, "canceled by client", op.parent)
          : op.step === "done"
            ? s.cascade.done(op.id)
            : s.cascade.again(op.id),
      );
  }
}

/** The step with its "@state" ids resolved (the same object when it has none). */
async function resolveOp(op: LedgerOp, side: LedgerSide): Promise<LedgerOp> {
  const one = async (i: string) => (await resolveIds(side, [i]))[0]!;
  switch (op.op) {
    case "commit": {
      const ids = await resolveIds(
        side,
        op.items.map((c) => c.id),
      );
      if (ids.length < op.items.length)
        return { ...op, items: op.items.slice(0, 1).map((c) => ({ ...c, id: ids[0]! })) };
      return { ...op, items: op.items.map((c, k) => ({ ...c, id: ids[k]! })) };
    }
    case "start":
      return { ...op, ids: await resolveIds(side, op.ids) };
    case "attempt":
      return { ...op, outcome: { ...op.outcome, id: await one("@pending") } };
    case "settle":
      return op.id === "@ended" ? { ...op, id: (await side.ledger.endedTaskIds())[0] ?? "a" } : op;
    case "notify": {
      if (op.dependent !== "@blocked" && op.dependency !== "@its-dependency") return op;
      const waiting = await side.ledger.waitingTaskIds();
      const dependent = op.dependent === "@blocked" ? (waiting[0] ?? "a") : op.dependent;
      const open = (await side.ledger.get(dependent))?.task.waiting_on ?? [];
      const dependency = op.dependency === "@its-dependency" ? (sorted(open)[0] ?? "zz") : op.dependency;
      return { ...op, dependent, dependency };
    }
    case "requeue":
    case "input":
    case "progress":
      return op.id in BY_STATE ? { ...op, id: await one(op.id) } : op;
    default:
      return op;
  }
}

/** Everything the ledger's readers answer, set-ordered parts sorted. */
async function ledgerView(s: LedgerSide): Promise<unknown> {
  const ids = [...IDS, "zz"];
  const [records, statuses, outcomes, ended, dependents] = await Promise.all([
    Promise.all(ids.map((i) => s.ledger.get(i))),
    Promise.all(ids.map((i) => s.ledger.status(i))),
    Promise.all(ids.map((i) => s.ledger.outcome(i))),
    Promise.all(ids.map((i) => s.ledger.endedTask(i))),
    Promise.all(ids.map((i) => s.ledger.dependentsOf(i))),
  ]);
  return {
    records: records.map((r) =>
      r?.task.waiting_on === undefined
        ? r
        : { ...r, task: { ...r.task, waiting_on: sorted(r.task.waiting_on) } },
    ),
    statuses,
    outcomes,
    ended: ended.map((e) => ({ ...e, dependents: sorted(e.dependents) })),
    dependents: dependents.map((d) => sorted(d)),
    open: sorted(await s.ledger.openTaskIds()),
    held: await Promise.all(DISTS.map(async (d) => sorted(await s.ledger.distributorTaskIds(d)))),
    endedIds: sorted(await s.ledger.endedTaskIds()),
    waitingIds: sorted(await s.ledger.waitingTaskIds()),
    frontier: sorted(await s.cascade.frontier(1000)),
  };
}

/**
 * A raw dump with the input_due scores (the engine's clock) taken out; they are checked by
 * checkDeadlines. A record's not_before is compared as the number it reads back as (parseRecord):
 * Redis 7.0 writes a Lua number with %.17g ("1924992000001.1001"), JavaScript the shortest text
 * of the same double ("1924992000001.1").
 */
function withoutEngineClock(d: Dump): Dump {
  const out: Dump = {};
  for (const [key, entry] of Object.entries(d)) {
    if (/input_due$/.test(key))
      out[key] = { ...entry, value: sorted((entry.value as [string, number][]).map(([m]) => m)) };
    else if (entry.type === "hash" && (entry.value as Record<string, string>).not_before !== undefined) {
      const h = entry.value as Record<string, string>;
      out[key] = { ...entry, value: { ...h, not_before: Number(h.not_before) } };
    } else out[key] = entry;
  }
  return out;
}

function inputDueScore(d: Dump, taskId: string): number | undefined {
  for (const [key, entry] of Object.entries(d))
    if (/input_due$/.test(key)) {
      const hit = (entry.value as [string, number][]).find(([m]) => m === taskId);
      if (hit !== undefined) return hit[1];
    }
  return undefined;
}

/**
 * Each engine's input_required deadline is the one it recorded (its input_due score), and on
 * memory:// it is the faked clock plus the task's input_timeout_ms.
 */
function checkDeadlines(log: string[], deadlines: Deadline[], dumps: Record<EngineName, Dump>): void {
  for (const d of deadlines) {
    const score = inputDueScore(dumps[d.engine], d.taskId);
    expect(
      d.deadline,
      `${d.engine}: the input_required deadline a commit answered is not the one it recorded in input_due\nsteps:\n${log.join("\n")}`,
    ).toBe(score);
    if (d.engine === "memory")
      expect(d.deadline, `memory: deadline is not now + input_timeout_ms\nsteps:\n${log.join("\n")}`).toBe(
        d.clockMs + d.timeoutMs,
      );
  }
}

async function runLedger(ops: LedgerOp[]): Promise<void> {
  await stores.run("engine-twins", ledgerSide, ops, async (op, sides, log) => {
    const deadlines: Deadline[] = [];
    const answers = await ledgerStep(op, sides, deadlines, log);
    same(log, `the answer to ${op.op}`, answers);
    const views = await onBoth(sides, (s) => ledgerView(s));
    same(log, `the ledger read back after ${op.op}`, views);
    const dumps = { memory: await dump(sides.memory.client), redis: await dump(sides.redis.client) };
    checkDeadlines(log, deadlines, dumps);
    same(log, `the raw keyspace after ${op.op}`, {
      memory: withoutEngineClock(dumps.memory),
      redis: withoutEngineClock(dumps.redis),
    });
  });
}

// --- leases and transaction (src/core/store/scripts) ------------------------------------------

type LeaseOp =
  | { op: "acquire"; key: string; owner: string; ttl: number }
  | { op: "renew"; key: string; owner: string; ttl: number; token: "none" | "current" | "other" }
  | { op: "release"; key: string; owner: string; token: "none" | "current" | "other" }
  | { op: "get"; key: string }
  | { op: "transaction"; key: string; update: "incr" | "reset" | "string" };

const leaseKey = fc.constantFrom("l1", "shared-state:d1");
const owner = fc.constantFrom("o1", "o2");
const tokenChoice = fc.constantFrom("none" as const, "current" as const, "other" as const);
const leaseOps: fc.Arbitrary<LeaseOp[]> = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant("acquire" as const), key: leaseKey, owner, ttl: fc.constantFrom(30, 60.5) }),
    fc.record({
      op: fc.constant("renew" as const),
      key: leaseKey,
      owner,
      ttl: fc.constantFrom(30, 90),
      token: tokenChoice,
    }),
    fc.record({ op: fc.constant("release" as const), key: leaseKey, owner, token: tokenChoice }),
    fc.record({ op: fc.constant("get" as const), key: leaseKey }),
    fc.record({
      op: fc.constant("transaction" as const),
      key: fc.constantFrom("k1", "k2"),
      update: fc.constantFrom("incr" as const, "reset" as const, "string" as const),
    }),
  ),
  { minLength: 5, maxLength: 25 },
);

async function runLeases(ops: LeaseOp[]): Promise<void> {
  await stores.run(
    "engine-twins-lease",
    (client) => ({ client }),
    ops,
    async (op, sides, log) => {
      const tokenOf = async (c: RedisClient, key: string, t: "none" | "current" | "other") => {
        if (t === "none") return undefined;
        const current = (await c.getLease(key))?.token ?? 0;
        return t === "current" ? current : current + 7;
      };
      const answers = await onBoth(sides, async ({ client: c }) => {
        switch (op.op) {
          case "acquire":
            return c.acquireLeaseToken(op.key, op.owner, op.ttl);
          case "renew":
            return c.renewLease(op.key, op.owner, op.ttl, await tokenOf(c, op.key, op.token));
          case "release":
            return c.releaseLease(op.key, op.owner, await tokenOf(c, op.key, op.token));
          case "get": {
            const lease = await c.getLease(op.key);
            // acquired_at and expires_at are the engine's clock (TIME): compared as "present".
            return lease === null
              ? null
              : { owner: lease.owner, token: lease.token, times: "<engine clock>" };
          }
          case "transaction":
            return c.transaction<JsonValue>(op.key, (cur) =>
              op.update === "incr"
                ? typeof cur === "number"
                  ? cur + 1
                  : 1
                : op.update === "reset"
                  ? 0
                  : "s/ü",
            );
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, async ({ client: c }) => {
        const d = await dump(c);
        // A lease's acquired_at is the engine's clock.
        for (const [key, entry] of Object.entries(d))
          if (entry.type === "hash" && /^\{lease:/.test(key))
            entry.value = { ...(entry.value as object), acquired_at: "<engine clock>" };
        return d;
      });
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

// --- limits (src/agents/limits) -----------------------------------------------------------------

type LimitOp =
  | { op: "set"; type: string; limit: TaskTypeLimit }
  | { op: "remove"; type: string }
  | { op: "acquire"; dist: string; items: Array<{ taskId: string; taskType: string }> }
  | { op: "bind"; items: Array<{ taskId: string; taskType: string; fence: number | null }> }
  | { op: "release"; taskId: string; value: "reservation" | "fence" | "other" }
  | { op: "read"; dist: string; waiting: Array<[string, number]>; withHolders: boolean };

const limitType = fc.constantFrom("echo", "sleep", `t${"y".repeat(70)}`);
const slotTask = fc.constantFrom("a", "b", "c", "7");
const limitOps: fc.Arbitrary<LimitOp[]> = fc.array(
  fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("set" as const),
        type: limitType,
        // Rates below one a second: a window of 333-1000 s, so that the two engines' clocks
        // (the faked one, Redis TIME) fall in the same rate buckets.
        limit: fc.oneof(
          fc.record({ concurrency: fc.integer({ min: 1, max: 3 }) }),
          fc.record({ rate_per_s: fc.constantFrom(0.001, 0.002, 0.003) }),
          fc.record({
            concurrency: fc.integer({ min: 1, max: 3 }),
            rate_per_s: fc.constantFrom(0.001, 0.003),
          }),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), type: limitType }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("acquire" as const),
        dist: fc.constantFrom("d1", "d2"),
        items: fc.uniqueArray(fc.record({ taskId: slotTask, taskType: limitType }), {
          minLength: 1,
          maxLength: 3,
          selector: (i) => i.taskId,
        }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("bind" as const),
        items: fc.uniqueArray(
          fc.record({ taskId: slotTask, taskType: limitType, fence: fc.constantFrom(null, 1, 2) }),
          { minLength: 1, maxLength: 3, selector: (i) => i.taskId },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("release" as const),
        taskId: slotTask,
        value: fc.constantFrom("reservation" as const, "fence" as const, "other" as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("read" as const),
        dist: fc.constantFrom("", "d1", "d2"),
        waiting: fc.array(fc.tuple(limitType, fc.integer({ min: 0, max: 3 })), { maxLength: 2 }),
        withHolders: fc.boolean(),
      }),
    },
  ),
  { minLength: 5, maxLength: 25 },
);

/** A reservation is "r:<engine clock ms>:<distributor>": its time normalised. */
const reservationShape = (v: string) => v.replace(/^r:\d+:/, "r:<engine clock>:");

async function runLimits(ops: LimitOp[]): Promise<void> {
  await stores.run(
    "engine-twins-limits",
    (client) => ({ client, limits: new LimitStore(client), reservation: "r:none" }),
    ops,
    async (op, sides, log) => {
      const answers = await onBoth(sides, async (s) => {
        switch (op.op) {
          case "set":
            return s.limits.set(op.type, op.limit);
          case "remove":
            return s.limits.remove(op.type);
          case "acquire": {
            // A reservation is "r:<ms>:<distributor>": two acquires of one distributor in the same
            // millisecond share it (on both engines). Each acquire here gets a millisecond of its
            // own on both clocks, so that the faked one (frozen between steps) and Redis TIME agree.
            if (s.client === sides.memory.client) advanceClock(2);
            await new Promise((r) => setTimeout(r, 2));
            const r = await s.limits.acquire(op.dist, op.items);
            s.reservation = r.reservation;
            return {
              reservation: reservationShape(r.reservation),
              // A rate wait is measured on the engine's clock: compared as "wait".
              verdicts: r.verdicts.map((x) => (typeof x === "number" && x > 0 ? "wait" : x)),
            };
          }
          case "bind":
            return s.limits.bind(s.reservation, op.items);
          case "release":
            return s.limits.release(
              op.taskId,
              op.value === "reservation" ? s.reservation : op.value === "fence" ? "1" : "r:0:x",
            );
          case "read": {
            const r = await s.limits.read(op.dist, new Map(op.waiting), op.withHolders);
            return {
              limits: r.limits,
              holders: sorted(r.holders.map((h) => ({ ...h, value: reservationShape(h.value) }))),
            };
          }
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, async (s) => {
        const d = await dump(s.client);
        for (const [key, entry] of Object.entries(d)) {
          const h = entry.value as Record<string, string>;
          if (/held:/.test(key))
            entry.value = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, reservationShape(v)]));
          else if (/waiting:/.test(key))
            entry.value = Object.fromEntries(
              Object.entries(h).map(([k, v]) => [k, v.replace(/:\d+$/, ":<ms>")]),
            );
          else if (/rate:/.test(key))
            // Buckets are numbered by the engine's clock: their starts are compared in total.
            entry.value = { starts: Object.values(h).reduce((n, x) => n + Number(x), 0) };
        }
        return d;
      });
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

// --- recurring schedules (src/agents/schedules) ----------------------------------------------------

const PAST = Date.UTC(2001, 0, 1);
const FUTURE = Date.UTC(2200, 0, 1);

type ScheduleOp =
  | { op: "upsert"; id: string; every: number | string; at: "past" | "future"; payload: JsonObject }
  | { op: "remove"; id: string }
  | { op: "get"; id: string }
  | { op: "list" }
  | { op: "due"; max: number }
  | { op: "advance"; id: string; read: "due" | "other"; next: "past" | "future"; k: number };

const scheduleIdArb = fc.constantFrom("s1", "s2", "s-ü");
const scheduleOps: fc.Arbitrary<ScheduleOp[]> = fc.array(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("upsert" as const),
        id: scheduleIdArb,
        every: fc.constantFrom<number | string>(1000, 60_000, "*/5 * * * *"),
        at: fc.constantFrom("past" as const, "future" as const),
        payload,
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("remove" as const), id: scheduleIdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("get" as const), id: scheduleIdArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("list" as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("due" as const), max: fc.constantFrom(1, 10) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("advance" as const),
        id: scheduleIdArb,
        read: fc.constantFrom("due" as const, "due" as const, "other" as const),
        next: fc.constantFrom("past" as const, "future" as const),
        k: fc.integer({ min: 1, max: 50 }),
      }),
    },
  ),
  { minLength: 5, maxLength: 30 },
);

async function runSchedules(ops: ScheduleOp[]): Promise<void> {
  await stores.run(
    "engine-twins-schedules",
    (client) => ({ client, schedules: new ScheduleStore(client), due: [] as DueSchedule[] }),
    ops,
    async (op, sides, log) => {
      const answers = await onBoth(sides, async (s) => {
        switch (op.op) {
          case "upsert": {
            const input = {
              schedule_id: op.id,
              ...(typeof op.every === "number" ? { every_ms: op.every } : { cron: op.every }),
              task: { task_type: "echo", payload: op.payload },
            };
            return s.schedules.upsert(input, op.at === "past" ? PAST : FUTURE);
          }
          case "remove":
            return s.schedules.remove(op.id);
          case "get":
            return s.schedules.get(op.id);
          case "list":
            return s.schedules.list();
          case "due": {
            const r = await s.schedules.due(op.max);
            s.due = r.due;
            // nowMs is the engine's clock.
            return { earliestMs: r.earliestMs, due: r.due };
          }
          case "advance": {
            const from = s.due.find((d) => d.id === op.id);
            const due: DueSchedule =
              op.read === "due" && from !== undefined
                ? from
                : {
                    id: op.id,
                    dueRaw: "123",
                    spec: { schedule_id: op.id, every_ms: 1000, task: { task_type: "echo", payload: {} } },
                  };
            const next = (op.next === "past" ? PAST : FUTURE) + op.k * 1000;
            const taskId = `${op.id}@${new Date(next).toISOString()}`;
            return s.schedules.advance(due, next, taskId, new Date(next).toISOString());
          }
        }
      });
      same(log, `the answer to ${op.op}`, answers);
      const dumps = await onBoth(sides, (s) => dump(s.client));
      same(log, `the raw keyspace after ${op.op}`, dumps);
    },
  );
}

// --- the properties ------------------------------------------------------------------------------

/** A property over `ops` run `runs` times (FUZZ_RUNS scales it), as vitest's test body and timeout. */
function property<T>(ops: fc.Arbitrary<T>, run: (ops: T) => Promise<void>, runs: number) {
  return [
    async () => {
      await fc.assert(fc.asyncProperty(ops, run), fuzzParams(fuzzRuns(runs)));
    },
    fuzzTimeout(fuzzRuns(runs)),
  ] as const;
}

describe("engine twins: every Lua script and its memory:// twin answer and write the same", () => {
  const ledger = "task ledger, input, due sweep, progress, cancel cascade";
  it(`${ledger}: ordinary values`, ...property(ledgerOps(ORDINARY), runLedger, 12));
  it(`${ledger}: edge values the APIs accept`, ...property(ledgerOps(EDGES), runLedger, 12));
  it("leases and transaction", ...property(leaseOps, runLeases, 20));
  it("per-task-type limits", ...property(limitOps, runLimits, 20));
  it("recurring schedules", ...property(scheduleOps, runSchedules, 20));
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
