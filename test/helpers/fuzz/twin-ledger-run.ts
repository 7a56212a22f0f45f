import { expect } from "vitest";
import { InputLedger } from "../../../src/agents/input/input-ledger.js";
import { type AttemptOutcome, type NewTask, TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { ProgressWriter } from "../../../src/agents/live/progress-writer.js";
import { DueSweeper } from "../../../src/agents/schedule-controls/due-sweeper.js";
import { delayUntil, type ScheduleKeys } from "../../../src/agents/schedule-controls/task-schedule.js";
import { CascadeLedger } from "../../../src/agents/workflow/cascade-ledger.js";
import type { RedisClient } from "../../../src/index.js";
import { same } from "./twin-checks.js";
import {
  BY_STATE,
  type ByState,
  type CommitGen,
  DISTS,
  type Fence,
  IDS,
  type LedgerOp,
  type TaskGen,
} from "./twin-ledger-ops.js";
import {
  advanceClock,
  type Dump,
  dump,
  type EngineName,
  onBoth,
  sorted,
  type TwinStores,
} from "./twin-stores.js";

/**
 * The task-ledger engine-twin fuzz run on both engines (test/fuzz/engine-twins.test.ts): each
 * engine's side of the APIs, one step of the operations of twin-ledger-ops.ts on both, what the
 * ledger reads back, and the normalisation of the engine's own clock in a raw dump.
 */

export type LedgerSide = {
  client: RedisClient;
  ledger: TaskLedger;
  input: InputLedger;
  cascade: CascadeLedger;
  progress: ProgressWriter;
  sweeper: DueSweeper;
  swept: { released: string[]; expired: string[] };
};

export function ledgerSide(client: RedisClient): LedgerSide {
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

export function newTask(t: TaskGen): NewTask {
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
export async function fenceOf(side: LedgerSide, taskId: string, which: Fence): Promise<number> {
  const current = (await side.ledger.get(taskId))?.fence ?? 0;
  return which === "current" ? current : which === "stale" ? current - 1 : current + 1;
}

export function outcomeOf(c: CommitGen, fenceValue: number): AttemptOutcome {
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
export type Deadline = {
  engine: EngineName;
  taskId: string;
  deadline: number;
  timeoutMs: number;
  clockMs: number;
};

/** The ids of a step with each "@state" replaced by a task in that state on memory:// (else "a"), distinct. */
export async function resolveIds(side: LedgerSide, ids: string[]): Promise<string[]> {
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

export async function ledgerStep(
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
      return onBoth(sides, (s) =>
        Promise.all(op.ids.map((i) => s.ledger.assignTo(i, op.dist, op.owner, op.from ?? ""))),
      );
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
export async function resolveOp(op: LedgerOp, side: LedgerSide): Promise<LedgerOp> {
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
export async function ledgerView(s: LedgerSide): Promise<unknown> {
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
export function withoutEngineClock(d: Dump): Dump {
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

export function inputDueScore(d: Dump, taskId: string): number | undefined {
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
export function checkDeadlines(log: string[], deadlines: Deadline[], dumps: Record<EngineName, Dump>): void {
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

/** A run of ledger operations on both engines of `stores`: after each step the answers, what the ledger reads back, and the raw keyspaces are equal. */
export function ledgerRunner(stores: TwinStores): (ops: LedgerOp[]) => Promise<void> {
  return async (ops) => {
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
  };
}
