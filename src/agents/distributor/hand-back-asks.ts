import { groupBy } from "../../core/group-by.js";
import type { A2AClient } from "../../core/messaging/client.js";
import type { TaskDict } from "../protocol.js";
import type { Timing } from "../timing.js";
import type { DispatchQueue } from "./dispatch-queue.js";
import type { HeldTasks } from "./held-tasks.js";
import type { WorkerRegistry } from "./worker-registry.js";

/**
 * A coordinator's answer to a hand_back: the ids it moved, recorded elsewhere already; those
 * that wait for a runner of their type (its runners dead but remembered) or for an owner of
 * their shard (not run here, asked about again); and those in shards another coordinator owns
 * now (`elsewhere`: that one is asked).
 */
export type HandBackReply = {
  moved: string[];
  waiting: string[];
  elsewhere?: Array<{ coordinator: string; url: string | null; tasks: string[] }>;
};

/** Asks `coordinator` to move `tasks` to a distributor that runs their type (a hand_back REQUEST); null when no answer came. */
export type AskHandBack = (coordinator: string, tasks: TaskDict[]) => Promise<HandBackReply | null>;

/**
 * Times a task is sent on to the coordinator another named as its shard's owner, per question:
 * past it (the shards moving on meanwhile) it is asked about again later, as one that waits.
 */
const MAX_REDIRECTS = 2;

/** What of the distributor's a hand-back reads and changes. */
export type HandBackSeam = {
  queue: DispatchQueue;
  held: HeldTasks;
  /** The coordinator that placed a task, when not `home()` (it is asked about the task). */
  placedBy: Map<string, string>;
  home: () => string;
  /** An answer came: the tasks kept may go to a worker. */
  pump: () => void;
};

/**
 * The distributor's side of a hand-back. A queued task whose type none of this distributor's
 * live workers runs (every live one has said what it runs) is not sent to a worker to fail as
 * an unknown type at once: the coordinator is asked, with every task of that type due here,
 * whether another distributor runs it (src/agents/coordinator/type-hand-back.ts). Those it
 * moves leave; the rest are kept, each asked about once while held here, and go on as before
 * (a worker here that ran the type and died lately is waited for; else any worker fails it).
 * While the question is out, the task waits in its place and is not dispatched, so the move
 * never races an attempt here.
 */
export class HandBackAsks {
  /** Asked about, no answer yet: not dispatched. */
  private readonly asking = new Set<string>();
  /** Answered and kept: dispatched as before, not asked about again while held here. */
  private readonly kept = new Set<string>();

  constructor(
    private readonly ask: AskHandBack,
    private readonly o: HandBackSeam,
  ) {}

  /** Whether the task waits for an answer: asked now or before (false once kept, or not asked). */
  asked(taskId: string): boolean {
    return this.asking.has(taskId);
  }

  /**
   * `task`, of a type no live worker here runs: true when it waits for the coordinator's answer
   * (asked now, with every task of its type queued here and not asked about yet); false when it
   * was kept here by an earlier answer.
   */
  waits(task: TaskDict): boolean {
    if (this.kept.has(task.task_id)) return false;
    if (this.asking.has(task.task_id)) return true;
    const tasks = this.o.queue
      .dueOfType(task.task_type)
      .filter((t) => !this.kept.has(t.task_id) && !this.asking.has(t.task_id));
    if (!tasks.some((t) => t.task_id === task.task_id)) tasks.unshift(task);
    for (const t of tasks) this.asking.add(t.task_id);
    const byCoordinator = groupBy(tasks, (t) => this.o.placedBy.get(t.task_id) ?? this.o.home());
    for (const [to, group] of byCoordinator) void this.askOne(to, group);
    return true;
  }

  /**
   * Every worker of `registry` died (none yet, after a start, is not this: they come back in a
   * moment): every due task queued is asked about, the first of each type with the rest of its
   * type, none taken out of the queue. The pump's planner, with no worker to plan on, asks none.
   */
  ifEveryWorkerDied(registry: WorkerRegistry): void {
    if (this.o.queue.size === 0 || registry.all().length === 0 || registry.alive().length > 0) return;
    this.o.queue.take(this.o.queue.size, Date.now(), (task) => {
      this.waits(task);
      return false;
    });
  }

  /** Forgets the tasks no longer held here (`holds` false). */
  prune(holds: (taskId: string) => boolean): void {
    for (const id of this.asking) if (!holds(id)) this.asking.delete(id);
    for (const id of this.kept) if (!holds(id)) this.kept.delete(id);
  }

  private async askOne(coordinator: string, tasks: TaskDict[], redirects = 0): Promise<void> {
    const answer = await this.ask(coordinator, tasks).catch(() => null);
    const moved = new Set(answer?.moved);
    const waiting = new Set(answer?.waiting);
    // In a shard another coordinator owns now: that one is asked (this one could only keep it).
    const owners = new Map<string, string>();
    for (const g of answer?.elsewhere ?? [])
      for (const id of g.tasks) {
        if (redirects < MAX_REDIRECTS) owners.set(id, g.coordinator);
        else waiting.add(id);
      }
    const onward = new Map<string, TaskDict[]>();
    const gone: string[] = [];
    for (const t of tasks) {
      if (!this.asking.has(t.task_id)) continue; // no longer held here meanwhile
      const owner = owners.get(t.task_id);
      if (owner !== undefined) {
        const group = onward.get(owner);
        if (group) group.push(t);
        else onward.set(owner, [t]);
        continue; // still asked about: not dispatched
      }
      this.asking.delete(t.task_id);
      if (moved.has(t.task_id)) gone.push(t.task_id);
      // Its type's runners are dead but remembered: not run here, asked about again when the
      // pump reaches it (the coordinator holds each answer up to a heartbeat timeout).
      else if (!waiting.has(t.task_id)) this.kept.add(t.task_id);
    }
    // Recorded on another distributor now: no longer held here (still queued: it waited for this).
    for (const id of gone) {
      if (!this.o.queue.delete(id)) continue;
      this.o.held.delete(id);
      this.o.placedBy.delete(id);
    }
    for (const [to, group] of onward) void this.askOne(to, group, redirects + 1);
    this.o.pump();
  }
}

/**
 * `ask`, telling `warn` when a coordinator leaves a question unanswered (no answer in time, or
 * a refusal: a coordinator of an earlier release that ignores hand_back, say) — once, not on
 * every question after, until that coordinator answers one again. The tasks asked about are
 * kept here as before (HandBackAsks): nothing is lost, and the log is not flooded.
 */
export function warnUnansweredOnce(
  ask: AskHandBack,
  warn: (coordinator: string, tasks: number) => void,
): AskHandBack {
  const silent = new Set<string>();
  return async (coordinator, tasks) => {
    const answer = await ask(coordinator, tasks).catch(() => null);
    if (answer !== null) silent.delete(coordinator);
    else if (!silent.has(coordinator)) {
      silent.add(coordinator);
      warn(coordinator, tasks.length);
    }
    return answer;
  };
}

/**
 * Sends the hand_back REQUEST through `a2a` and reads the ids moved from its RESPONSE (null: no
 * answer in time, or a refusal). The coordinator may wait for heartbeats before it answers (a
 * heartbeat timeout plus an interval at most, on its timing): the wait here is twice that. The
 * URL of a coordinator the answer names as a shard's owner is learned when none is known (as an
 * assignment's), so that it can be asked.
 */
export async function askHandBack(
  a2a: Pick<A2AClient, "sendRequest" | "peerUrl" | "setPeer">,
  timing: Timing,
  coordinator: string,
  tasks: TaskDict[],
): Promise<HandBackReply | null> {
  const timeoutMs = 2 * (timing.heartbeatTimeoutMs + timing.heartbeatIntervalMs);
  const reply = await a2a.sendRequest(
    coordinator,
    { event_type: "hand_back", event_data: { tasks } },
    timeoutMs,
  );
  const body = reply?.payload as
    | { success?: unknown; data?: { moved?: unknown; waiting?: unknown; elsewhere?: unknown } | null }
    | undefined;
  const moved = body?.success === true ? body.data?.moved : undefined;
  if (!Array.isArray(moved)) return null;
  const ids = (list: unknown) =>
    Array.isArray(list) ? list.filter((id): id is string => typeof id === "string") : [];
  // A coordinator of an earlier release says nothing of waiting nor of owners: kept, as before.
  const elsewhere: NonNullable<HandBackReply["elsewhere"]> = [];
  for (const g of Array.isArray(body?.data?.elsewhere) ? body.data.elsewhere : []) {
    const { coordinator: to, url, tasks: some } = (g ?? {}) as Record<string, unknown>;
    if (typeof to !== "string" || to === "" || to === coordinator) continue;
    const link = typeof url === "string" && url !== "" ? url : null;
    if (link !== null && a2a.peerUrl(to) === undefined) a2a.setPeer(to, link);
    elsewhere.push({ coordinator: to, url: link, tasks: ids(some) });
  }
  return { moved: ids(moved), waiting: ids(body?.data?.waiting), elsewhere };
}
