import { TriadError } from "../../core/errors.js";
import { groupBy } from "../../core/group-by.js";
import type { RedisClient, ScriptReply, StoreScript } from "../../core/store/index.js";
import { TickBatcher } from "../../core/tick-batcher.js";
import { commitEvent, type LedgerEvent, observed, observedEach, tell } from "./ledger-events.js";
import { checkedLedgerOptions, type LedgerOptions } from "./ledger-options.js";
import * as scripts from "./ledger-scripts.js";
import {
  ASSIGN_VERDICTS,
  type AssignVerdict,
  type AttemptOutcome,
  COMMIT_VERDICTS,
  type CommitReceipt,
  type CommitVerdict,
  DISPATCH_REFUSALS,
  type DispatchStart,
  type DispatchVerdict,
  type EndedTask,
  NOTICE_VERDICTS,
  type Notice,
  type TaskOutcome,
} from "./ledger-verdicts.js";
import { packedArgs } from "./packed-args.js";
import { shardOf, shardTag } from "./shards.js";
import {
  compactTime,
  inputRequestValue,
  type LedgerTaskDict,
  type NewTask,
  parseRecord,
  resultOf,
  submitRest,
  type TaskRecord,
} from "./task-record.js";

export type { LedgerEvent } from "./ledger-events.js";
export type { LedgerOptions } from "./ledger-options.js";

export type {
  AssignVerdict,
  AttemptOutcome,
  CommitReceipt,
  CommitVerdict,
  DispatchStart,
  DispatchVerdict,
  EndedTask,
  Notice,
  NoticeVerdict,
  TaskOutcome,
} from "./ledger-verdicts.js";
export type { LedgerTaskDict, NewTask, TaskRecord } from "./task-record.js";

const SEP = "\u0000";

/**
 * The durable record of every task (ARCHITECTURE: Redis is the source of truth). Each state
 * change is one Lua script; calls made in the same tick are coalesced into one script call
 * (one per shard on Redis Cluster, where a script must stay in one slot), so per-task callers
 * get batching for free.
 */
export class TaskLedger {
  readonly shards: number;
  readonly retentionMs: number;
  private readonly submitter: TickBatcher<NewTask, boolean>;
  private readonly assigner: TickBatcher<string, AssignVerdict>;
  private readonly dispatcher: TickBatcher<string, DispatchStart>;
  private readonly committer: TickBatcher<AttemptOutcome, CommitReceipt>;
  private readonly requeuer: TickBatcher<{ taskId: string; fence: number }, boolean>;
  private readonly abandoner: TickBatcher<string, boolean>;
  private readonly reader: TickBatcher<string, TaskRecord | null>;
  private readonly statusReader: TickBatcher<string, string | null>;
  private readonly watcher: TickBatcher<{ dependency: string; dependent: string }, string>;
  private readonly notifier: TickBatcher<{ dependent: string; dependency: string; status: string }, Notice>;
  private readonly settler: TickBatcher<{ taskId: string; spawned: string[] | null }, boolean>;
  private readonly dependentsReader: TickBatcher<string, string[]>;
  private readonly endedReader: TickBatcher<string, EndedTask>;
  private readonly outcomeReader: TickBatcher<string, TaskOutcome | null>;
  private readonly observer: ((event: LedgerEvent) => void) | undefined;

  constructor(
    private readonly store: RedisClient,
    options: LedgerOptions = {},
  ) {
    ({
      shards: this.shards,
      retentionMs: this.retentionMs,
      observer: this.observer,
    } = checkedLedgerOptions(options));

    this.submitter = new TickBatcher((key, tasks) => {
      const [, dist] = split(key);
      return this.grouped(
        scripts.submitTasks,
        [Date.now(), dist],
        tasks,
        (t) => t.taskId,
        (t, args) =>
          args.push(t.taskId, t.taskType, JSON.stringify(t.payload), compactTime(t.createdAt), submitRest(t)),
        // A submit is answered "accepted": with redis.waitReplicas, only once replicas hold it.
        true,
      ).then((reply) => reply.map((r) => r === 1));
    });
    this.assigner = new TickBatcher(async (key, ids) => {
      const [shard, dist, owner, from] = split(key);
      const reply = await this.run(scripts.assignTasks, shard, `dist:${dist}`, [
        this.prefix(shard),
        dist,
        owner ?? "",
        from ?? "",
        ...ids,
      ]);
      return (reply as Array<number | string>).map((r) =>
        typeof r === "string" ? { heldBy: r } : (ASSIGN_VERDICTS[r] ?? false),
      );
    });
    this.dispatcher = new TickBatcher(async (key, ids) => {
      const [, dist, worker] = split(key);
      const now = Date.now();
      const head = [dist, worker!, new Date(now).toISOString(), now, this.retentionMs];
      const reply = await this.grouped(scripts.dispatchTasks, head, ids, (id) => id, pushId);
      return (reply as Array<[number, number?]>).map(([r, attempts]) =>
        r > 0 ? { fence: r, attempts: attempts! } : DISPATCH_REFUSALS[r]!,
      );
    });
    this.committer = new TickBatcher(async (_key, outcomes) => {
      const completedAt = new Date().toISOString();
      const reply = (await this.grouped(
        scripts.commitResults,
        [completedAt, Date.now(), this.retentionMs],
        outcomes,
        (o) => o.taskId,
        (o, args) => {
          const value =
            o.status === "completed"
              ? JSON.stringify(o.result ?? null)
              : o.status === "input_required"
                ? inputRequestValue(o)
                : (o.error ?? "failed");
          const spawn = o.status === "completed" && o.spawn?.length ? JSON.stringify(o.spawn) : "";
          const outcome = o.status === "failed" && o.retry === false ? "failed_final" : o.status;
          args.push(o.taskId, o.fence, outcome, value, spawn);
        },
      )) as Array<[number, number?, string?, string?, string?]>;
      return reply.map(([code, attempts, worker, started, notBefore]) => {
        const verdict = COMMIT_VERDICTS[code]!;
        return {
          verdict,
          attempts: attempts ?? 0,
          assignedTo: worker || null,
          startedAt: started || null,
          notBefore: notBefore ? Number(notBefore) : null,
          completedAt: verdict === "completed" || verdict === "failed" ? completedAt : null,
        };
      });
    });
    this.requeuer = new TickBatcher(async (key, items) => {
      const [shard, dist] = split(key);
      const args: (string | number)[] = [this.prefix(shard), dist];
      for (const item of items) args.push(item.taskId, item.fence);
      return ((await this.run(scripts.requeueTasks, shard, "open", args)) as number[]).map((r) => r === 1);
    });
    this.abandoner = new TickBatcher(async (key, ids) => {
      const [shard, reason, owner] = split(key);
      const args = [
        this.prefix(shard),
        new Date().toISOString(),
        this.retentionMs,
        reason,
        owner ?? "",
        ...ids,
      ];
      return ((await this.run(scripts.abandonTasks, shard, "open", args)) as number[]).map((r) => r === 1);
    });
    this.reader = new TickBatcher(async (_key, ids) => {
      const reply = await this.grouped(scripts.readTasks, [], ids, (id) => id, pushId);
      return (reply as string[][]).map((flat, k) => parseRecord(ids[k]!, flat));
    });
    this.statusReader = new TickBatcher(async (_key, ids) => {
      const reply = await this.grouped(scripts.readStatuses, [], ids, (id) => id, pushId);
      return (reply as string[]).map((status) => (status === "" ? null : status));
    });
    this.watcher = new TickBatcher(async (_key, pairs) => {
      const reply = await this.grouped(
        scripts.watchDependencies,
        [],
        pairs,
        (p) => p.dependency,
        (p, args) => args.push(p.dependency, p.dependent),
      );
      return reply as string[];
    });
    this.notifier = new TickBatcher(async (_key, notices) => {
      const reply = await this.grouped(
        scripts.dependencyEnded,
        [new Date().toISOString(), this.retentionMs, Date.now()],
        notices,
        (n) => n.dependent,
        (n, args) => args.push(n.dependent, n.dependency, n.status),
      );
      return (reply as Array<[number, ...string[]]>).map(([code, ...flat], k) => ({
        verdict: NOTICE_VERDICTS[code]!,
        record: parseRecord(notices[k]!.dependent, flat),
      }));
    });
    this.settler = new TickBatcher(async (_key, items) => {
      const reply = await this.grouped(
        scripts.settleEnded,
        [this.retentionMs],
        items,
        (t) => t.taskId,
        (t, args) => args.push(t.taskId, t.spawned === null ? "" : JSON.stringify(t.spawned)),
      );
      return (reply as number[]).map((r) => r === 1);
    });
    this.dependentsReader = new TickBatcher(
      async (_key, ids) =>
        (await this.grouped(scripts.readDependents, [], ids, (id) => id, pushId)) as string[][],
    );
    this.outcomeReader = new TickBatcher(async (_key, ids) =>
      ((await this.grouped(scripts.readOutcomes, [], ids, (id) => id, pushId)) as string[][]).map(
        ([status, result, error]) =>
          status
            ? {
                status: status as LedgerTaskDict["status"],
                result: resultOf(status, result || undefined),
                error: error || null,
              }
            : null,
      ),
    );
    this.endedReader = new TickBatcher(async (_key, ids) =>
      ((await this.grouped(scripts.readEnded, [], ids, (id) => id, pushId)) as string[][]).map(
        ([status, spawns, canceled, ...dependents]) => ({
          status: status || null,
          spawns: spawns === "1",
          canceled: canceled === "1",
          dependents,
        }),
      ),
    );
  }

  /**
   * The batch a call of a grouped script joins: on a single Redis (or memory://) every shard
   * goes in one script call; on Redis Cluster a script call must stay in one slot, so one shard.
   */
  private group(shard: number): string {
    return this.store.engine.kind === "cluster" ? String(shard) : "*";
  }

  /**
   * Runs a grouped script (see submit-tasks-1.lua) over `items` of any shards: ARGV is `head`,
   * then per shard its prefix, its item count and each item's values. Replies in item order.
   * KEYS[1] is the first shard's open set, only so that Redis Cluster routes the call. Other
   * rooms' grouped scripts (the workflow's cancel cascade) run through here too. `replicated`:
   * through RedisClient.runReplicatedScript (a change its caller is told was accepted). On
   * Redis the ARGV goes packed into one value (packed-args.ts; the script splits it back).
   */
  grouped<I>(
    script: StoreScript,
    head: (string | number)[],
    items: I[],
    idOf: (item: I) => string,
    push: (item: I, args: (string | number)[]) => void,
    replicated = false,
  ): Promise<ScriptReply[]> {
    if (items.length === 1) {
      // A lone call (one task awaited at a time): one group, and the reply is already in order.
      const shard = this.shard(idOf(items[0]!));
      const args = [...head, this.prefix(shard), 1];
      push(items[0]!, args);
      return this.run(script, shard, "open", this.packed(args), replicated) as Promise<ScriptReply[]>;
    }
    const byShard = groupBy(items.keys(), (k) => this.shard(idOf(items[k]!)));
    const args = [...head];
    const order: number[] = [];
    for (const [shard, ks] of byShard) {
      args.push(this.prefix(shard), ks.length);
      for (const k of ks) {
        push(items[k]!, args);
        order.push(k);
      }
    }
    const first = byShard.keys().next().value!;
    return this.run(script, first, "open", this.packed(args), replicated).then((reply) => {
      const replies = reply as ScriptReply[];
      const out = new Array<ScriptReply>(items.length);
      order.forEach((k, j) => {
        out[k] = replies[j]!;
      });
      return out;
    });
  }

  /** A grouped call's ARGV packed into one value (packed-args.ts) on Redis; the embedded engine encodes nothing. */
  private packed(args: (string | number)[]): (string | number)[] {
    return this.store.engine.kind === "memory" ? args : packedArgs(args);
  }

  private prefix(shard: number): string {
    return this.store.key(shardTag(shard));
  }

  /** A script whose KEYS[1] is `key` of `shard`; `replicated`: see RedisClient.runReplicatedScript. */
  private run(
    script: Parameters<RedisClient["runScript"]>[0],
    shard: number,
    key: string,
    args: (string | number)[],
    replicated = false,
  ) {
    const keys = [`${shardTag(shard)}${key}`];
    return replicated
      ? this.store.runReplicatedScript(script, keys, args)
      : this.store.runScript(script, keys, args);
  }

  private shard(taskId: string): number {
    return shardOf(taskId, this.shards);
  }

  /**
   * Records a new pending task; false when a task with that id already exists (left as is).
   * With `distributorId` the new task is placed on that distributor in the same step.
   */
  submit(task: NewTask, distributorId = ""): Promise<boolean> {
    // A script that met a missing limit would fail every call it is batched into, for ever.
    const { maxRetries, backoffMs } = task;
    if (
      !(Number.isSafeInteger(maxRetries) && maxRetries >= 0 && Number.isFinite(backoffMs) && backoffMs >= 0)
    ) {
      const why = `task ${task.taskId}: maxRetries must be an integer >= 0 and backoffMs a number >= 0`;
      return Promise.reject(new TriadError("ERR_INVALID_TASK", why));
    }
    const created = this.submitter.add(join(this.group(this.shard(task.taskId)), distributorId), task);
    return observed(this.observer, created, (ok) =>
      ok ? { op: "recorded", task_id: task.taskId, distributor: distributorId || null } : null,
    );
  }

  /** Whether assignTo assigned the task. */
  assign(taskId: string, distributorId: string, owner = ""): Promise<boolean> {
    return this.assignTo(taskId, distributorId, owner).then(assigned);
  }

  /**
   * Hands a task to a distributor; an attempt in progress elsewhere is fenced off (one in
   * progress on that same distributor is kept: it holds it, see assign-tasks-1.lua): "ended"
   * then (the task is pending now), else "assigned", or false. With `owner` (a shard owner's
   * lease value, several coordinators) only while that lease is current. With `from` (the
   * distributor a dead one's task was taken off) only while the task is still there (or on
   * `distributorId` already): else `{ heldBy }`, left where it is.
   */
  assignTo(taskId: string, distributorId: string, owner = "", from = ""): Promise<AssignVerdict> {
    const verdict = this.assigner.add(join(this.shard(taskId), distributorId, owner, from), taskId);
    return observed(this.observer, verdict, (v) =>
      assigned(v) ? { op: "assigned", task_id: taskId, distributor: distributorId } : null,
    );
  }

  /** Starts an attempt on a worker: its fencing token, or why not. */
  async dispatch(taskId: string, distributorId: string, workerId: string): Promise<DispatchVerdict> {
    const [start] = await this.dispatchMany(
      [taskId],
      distributorId,
      (id) => id,
      () => workerId,
    );
    return typeof start === "object" ? start.fence : start!;
  }

  /**
   * dispatch() for a plan of attempts (each task to its worker), with one promise for the plan:
   * the verdicts in the plan's order, each attempt started with the task's attempt count as the
   * store counts it. What a pump dispatches at once; no promise per task.
   */
  dispatchMany<P>(
    plan: P[],
    distributorId: string,
    taskIdOf: (p: P) => string,
    workerIdOf: (p: P) => string,
  ): Promise<DispatchStart[]> {
    const verdicts = this.dispatcher.addMany(
      plan,
      (p) => join(this.group(this.shard(taskIdOf(p))), distributorId, workerIdOf(p)),
      taskIdOf,
    );
    return observedEach(this.observer, verdicts, (v, k) =>
      typeof v === "object"
        ? {
            op: "dispatched",
            task_id: taskIdOf(plan[k]!),
            distributor: distributorId,
            worker: workerIdOf(plan[k]!),
            fence: v.fence,
          }
        : v === "expired"
          ? { op: "abandoned", task_id: taskIdOf(plan[k]!), reason: "expired" }
          : null,
    );
  }

  /** commitAttempt() for many outcomes, with one promise for them all: the receipts in order. */
  commitAttempts(outcomes: AttemptOutcome[]): Promise<CommitReceipt[]> {
    const receipts = this.committer.addMany(
      outcomes,
      (o) => this.group(this.shard(o.taskId)),
      (o) => o,
    );
    return observedEach(this.observer, receipts, (r, k) => commitEvent(outcomes[k]!, r.verdict));
  }

  /** Commits an attempt's outcome if its fence is still current. */
  async commit(outcome: AttemptOutcome): Promise<CommitVerdict> {
    return (await this.commitAttempt(outcome)).verdict;
  }

  /** commit(), answering also what the commit wrote (see CommitReceipt). */
  commitAttempt(outcome: AttemptOutcome): Promise<CommitReceipt> {
    return this.commitAttempts([outcome]).then(([receipt]) => receipt!);
  }

  /** Takes an attempt back from a dead worker: its fence is retired at once. */
  requeue(taskId: string, distributorId: string, fence: number): Promise<boolean> {
    const requeued = this.requeuer.add(join(this.shard(taskId), distributorId), { taskId, fence });
    return observed(this.observer, requeued, (ok) =>
      ok ? { op: "reassigned", task_id: taskId, distributor: distributorId, fence } : null,
    );
  }

  /** Ends an open task abandoned; with `owner`, only while that shard owner's lease is current (see assign). */
  abandon(taskId: string, reason: string, owner = ""): Promise<boolean> {
    const abandoned = this.abandoner.add(join(this.shard(taskId), reason, owner), taskId);
    return observed(this.observer, abandoned, (ok) =>
      ok ? { op: "abandoned", task_id: taskId, reason } : null,
    );
  }

  get(taskId: string): Promise<TaskRecord | null> {
    return this.reader.add(this.group(this.shard(taskId)), taskId);
  }

  /**
   * get() of many tasks, in order, `slice` at a time: a restart or a dead distributor's tasks
   * can be 100,000 records, and reading them all at once holds the event loop (and the heap)
   * for as long as it takes to ask for and parse every one.
   */
  async getMany(taskIds: string[], slice = 5_000): Promise<Array<TaskRecord | null>> {
    const out: Array<TaskRecord | null> = [];
    for (let from = 0; from < taskIds.length; from += slice) {
      out.push(...(await Promise.all(taskIds.slice(from, from + slice).map((id) => this.get(id)))));
    }
    return out;
  }

  /** A task's status alone (null for a task the ledger does not know): cheaper than get(). */
  status(taskId: string): Promise<string | null> {
    return this.statusReader.add(this.group(this.shard(taskId)), taskId);
  }

  // --- workflows (the mechanism is src/agents/workflow/; each step one script) ------------------

  /** Tells the observer of a change another room's script made to records (a cancel cascade's walk). */
  told(event: LedgerEvent): void {
    if (this.observer !== undefined) tell(this.observer, event);
  }

  /**
   * Registers `dependent` on `dependency` (in the dependency's shard): "" when registered (its
   * end will put it in `ended`), else the dependency's terminal status or "unknown".
   */
  watchDependency(dependency: string, dependent: string): Promise<string> {
    return this.watcher.add(this.group(this.shard(dependency)), { dependency, dependent });
  }

  /**
   * Tells `dependent` (in its shard) that `dependency` ended with `status`; idempotent. A notice
   * that makes it ready or abandons it comes back with its record (placed or reported as is).
   */
  notifyDependencyEnded(dependent: string, dependency: string, status: string): Promise<Notice> {
    const notice = this.notifier.add(this.group(this.shard(dependent)), { dependent, dependency, status });
    return observed(this.observer, notice, ({ verdict: v }): LedgerEvent | null => {
      if (v === "abandoned")
        return { op: "abandoned", task_id: dependent, reason: `dependency ${dependency} ${status}` };
      if (v === "unchanged") return null;
      return { op: "noticed", task_id: dependent, dependency, status, ready: v === "ready" };
    });
  }

  /** Marks an ended task's after-end work done (spawned tasks recorded, notices delivered). */
  settleEnded(taskId: string, spawned: string[] | null): Promise<boolean> {
    return this.settler.add(this.group(this.shard(taskId)), { taskId, spawned });
  }

  /** The tasks registered as waiting on `taskId` (kept until its record expires). */
  dependentsOf(taskId: string): Promise<string[]> {
    return this.dependentsReader.add(this.group(this.shard(taskId)), taskId);
  }

  /** How `taskId` ended (or where it is), without the rest of its record; null when it has none. */
  outcome(taskId: string): Promise<TaskOutcome | null> {
    return this.outcomeReader.add(this.group(this.shard(taskId)), taskId);
  }

  /** An ended task's status, spawn and cancel marks and dependents: what settling it needs, in one read. */
  endedTask(taskId: string): Promise<EndedTask> {
    return this.endedReader.add(this.group(this.shard(taskId)), taskId);
  }

  /** Ended tasks whose spawned tasks or dependents' notices may not be done yet, across all shards. */
  endedTaskIds(): Promise<string[]> {
    return this.members("ended");
  }

  /** Tasks waiting on dependencies, across all shards. */
  waitingTaskIds(): Promise<string[]> {
    return this.members("waiting");
  }

  /** Every task not yet terminal, across all shards (or these shards only). */
  async openTaskIds(shards?: number[]): Promise<string[]> {
    const which = shards ?? Array.from({ length: this.shards }, (_, shard) => shard);
    const all = await Promise.all(
      which.map((shard) => this.run(scripts.openTasks, shard, "open", [this.prefix(shard)])),
    );
    return (all as string[][]).flat();
  }

  /** The shard a task's records live in. */
  shardOf(taskId: string): number {
    return this.shard(taskId);
  }

  /** The tasks a distributor holds, across all shards. */
  async distributorTaskIds(distributorId: string): Promise<string[]> {
    return this.members(`dist:${distributorId}`);
  }

  /**
   * The ends the store counted, per status (completed, failed, abandoned), and the tasks it
   * recorded (submitted), over every shard: each counted once, in the step that recorded it
   * (read-end-counts-1.lua). From this release on.
   */
  async endCounts(): Promise<Record<string, number>> {
    const flat = (await this.everyShard(scripts.readEndCounts, [])).map(String);
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = (out[flat[i]!] ?? 0) + Number(flat[i + 1]);
    return out;
  }

  /** A set of every shard, merged (list-sets-1.lua). */
  private async members(key: string): Promise<string[]> {
    return (await this.everyShard(scripts.listSets, [key])) as string[];
  }

  /** A read of every shard, `head` then the shards' prefixes: one call on a single Redis, one per shard on a Cluster. */
  private async everyShard(script: StoreScript, head: string[]): Promise<ScriptReply[]> {
    const byGroup = groupBy(
      Array.from({ length: this.shards }, (_, shard) => shard),
      (shard) => this.group(shard),
    );
    const all = await Promise.all(
      [...byGroup.values()].map((shards) =>
        this.run(script, shards[0]!, "open", [...head, ...shards.map((s) => this.prefix(s))]),
      ),
    );
    return (all as ScriptReply[][]).flat();
  }
}

function pushId(id: string, args: (string | number)[]): void {
  args.push(id);
}

function join(...parts: (string | number)[]): string {
  return parts.join(SEP);
}

function split(key: string): [number, string, string?, string?] {
  const [shard, a, b, c] = key.split(SEP);
  return [Number(shard), a!, b, c];
}

function assigned(v: AssignVerdict): boolean {
  return v === "assigned" || v === "ended";
}
