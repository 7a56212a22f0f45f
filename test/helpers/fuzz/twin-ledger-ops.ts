import fc from "fast-check";
import type { AttemptOutcome } from "../../../src/agents/ledger/task-ledger.js";
import type { JsonObject, JsonValue } from "../../../src/index.js";

/**
 * The operations of the task-ledger engine-twin fuzz (test/fuzz/engine-twins.test.ts): the task
 * ledger and the rooms that write task records (input, due sweep, progress, cancel cascade), as
 * fast-check arbitraries. Run on both engines by test/helpers/fuzz/twin-ledger-run.ts.
 */

/** Few ids, so that operations meet: numeric ones (a Redis intset), a spawn-style one, one past 64 bytes (the open set, not a bucket). */
export const LONG_ID = `long-${"L".repeat(70)}`;
export const IDS = ["a", "b", "7", "a.1", LONG_ID];
export const DISTS = ["d1", "d2"];
export const WORKERS = ["w1", "w2"];

export type Values = {
  maxRetries: number[];
  backoffMs: number[];
  inputTimeoutMs: Array<number | undefined>;
  dists: string[];
};
/** What the coordinator sends day to day. */
export const ORDINARY: Values = {
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
export const EDGES: Values = {
  maxRetries: [0, 2, 60],
  backoffMs: [0.1, 1.25, 200, 1e14],
  inputTimeoutMs: [undefined, 1, 1e15],
  dists: [...DISTS, ""],
};

export type TaskGen = {
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
export type Fence = "current" | "stale" | "next";
export type CommitGen = {
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
export type LedgerOp =
  | { op: "submit"; tasks: TaskGen[]; dist: string }
  | { op: "assign"; ids: string[]; dist: string; owner: string; from?: string }
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

export const smallJson: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer({ min: -5, max: 1000 }),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: "grapheme", maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }),
);
export const payload: fc.Arbitrary<JsonObject> = fc.dictionary(fc.string({ maxLength: 4 }), smallJson, {
  maxKeys: 2,
});
export const id = fc.constantFrom(...IDS);
export const someIds = fc.uniqueArray(id, { minLength: 1, maxLength: 3 });
/**
 * A task by its state, resolved when the step runs (from the ledger on memory://): so that
 * sequences reach commits of running attempts, answers to waiting tasks, and so on.
 */
export const BY_STATE = {
  "@running": "in_progress",
  "@pending": "pending",
  "@waiting": "input_required",
} as const;
export type ByState = keyof typeof BY_STATE;
export const target = fc.oneof(
  { weight: 2, arbitrary: id },
  { weight: 3, arbitrary: fc.constant<ByState>("@running") },
  { weight: 1, arbitrary: fc.constant<ByState>("@pending") },
  { weight: 1, arbitrary: fc.constant<ByState>("@waiting") },
);
export const someTargets = fc.uniqueArray(target, { minLength: 1, maxLength: 3 });
export const fence: fc.Arbitrary<Fence> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("current" as const) },
  { weight: 1, arbitrary: fc.constant("stale" as const) },
  { weight: 1, arbitrary: fc.constant("next" as const) },
);

export function ledgerOps(v: Values): fc.Arbitrary<LedgerOp[]> {
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
        // Taken off a distributor (assign-tasks-1.lua's condition) or from any ("").
        from: fc.constantFrom("", "", ...v.dists),
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
