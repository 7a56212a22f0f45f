import { groupBy } from "../../core/group-by.js";
import { oncePerKey } from "../../core/once-per-key.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { TaskDict } from "../protocol.js";
import type { Timing } from "../timing.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { DistributorDirectory, DistributorEntry } from "./distributor-directory.js";
import { moveHandedBack } from "./hand-back-scripts.js";

export type TypeHandBackOptions = {
  ledger: TaskLedger;
  directory: DistributorDirectory;
  cluster: ClusterSeam;
  timing: Timing;
  /** `task` is recorded on `distributorId` now: send it there (Placement.send) and note it. */
  moved: (task: TaskDict, distributorId: string) => void;
};

/**
 * The answer to a hand-back: the ids moved, and those kept that wait for a runner of their type
 * (all of them dead but remembered, DistributorDirectory.awaitsRunner) or for an owner of their
 * shard (none known now): the holder does not run them, and asks again. `elsewhere`: those in a
 * shard another coordinator owns now, with that owner: the holder asks it instead.
 */
export type HandBackAnswer = {
  moved: string[];
  waiting: string[];
  elsewhere: HandBackElsewhere[];
};

/** Tasks of a hand-back in shards coordinator `coordinator` owns (listening at `url`; null in-process). */
export type HandBackElsewhere = { coordinator: string; url: string | null; tasks: string[] };

type Asked = { from: string; tasks: TaskDict[]; until: number; answer: (a: HandBackAnswer) => void };

/** Adds `taskId` to the group of coordinator `owner` in `groups`. */
function redirect(groups: HandBackElsewhere[], owner: { id: string; url: string | null }, taskId: string) {
  const group = groups.find((g) => g.coordinator === owner.id);
  if (group) group.tasks.push(taskId);
  else groups.push({ coordinator: owner.id, url: owner.url, tasks: [taskId] });
}

/**
 * The coordinator's side of a hand-back: a distributor holds tasks of a type none of its live
 * workers runs (placed there while no distributor was known to run it, or a retry whose worker
 * is gone) and asks whether another distributor runs it. Each task goes, recorded first
 * (hand-back-tasks-1.lua: fenced by the shard's owner lease; only a task still pending on the
 * sender, moved MAX_HAND_BACKS times at most), to a healthy distributor this coordinator knows
 * has a live worker that runs its type; the rest stay where they are and the holder runs them
 * as before (a type no distributor runs fails there as unknown, as the contract says). A task
 * in a shard this coordinator does not own (the shard moved since it placed the task) is not
 * kept: the answer names the coordinator that owns it now, whom the holder asks; with none known
 * (the shard between owners), the answer waits as below, then says it waits. While
 * none runs it yet but one may soon (a distributor whose worker has not said what it runs; one that ran it and is not
 * healthy now), the answer waits for their heartbeats (first-hand, or in another coordinator's
 * view), at most a heartbeat timeout plus an interval: by then the worker has said, or is dead.
 */
export class TypeHandBack {
  private waiting: Asked[] = [];

  constructor(private readonly o: TypeHandBackOptions) {}

  /** Resolves with the ids of `from`'s `tasks` moved to another distributor. */
  async ask(from: string, tasks: TaskDict[]): Promise<string[]> {
    return (await this.answer(from, tasks)).moved;
  }

  /** The ids of `from`'s `tasks` moved to another distributor, and of those that wait for a runner. */
  answer(from: string, tasks: TaskDict[]): Promise<HandBackAnswer> {
    const until = performance.now() + this.o.timing.heartbeatTimeoutMs + this.o.timing.heartbeatIntervalMs;
    return new Promise((answer) => {
      void this.settle({ from, tasks, until, answer });
    });
  }

  /** A distributor's heartbeat was taken: the answers that waited for one are tried again. */
  heard(): void {
    if (this.waiting.length === 0) return;
    const again = this.waiting;
    this.waiting = [];
    for (const asked of again) void this.settle(asked);
  }

  /** Answers every wait now (the coordinator stops): nothing moved. */
  close(): void {
    const all = this.waiting;
    this.waiting = [];
    for (const asked of all) asked.answer({ moved: [], waiting: [], elsewhere: [] });
  }

  private async settle(asked: Asked): Promise<void> {
    const { from, tasks } = asked;
    const left: TaskDict[] = [];
    const unowned: TaskDict[] = [];
    const elsewhere: HandBackElsewhere[] = [];
    const going: Array<{ task: TaskDict; id: string; owner: string; to: DistributorEntry }> = [];
    let waits = false;
    for (const task of tasks) {
      const owner = this.o.cluster.ownerValue(task.task_id);
      if (owner === null) {
        // Not this coordinator's shard (now): its owner is asked instead, or, none known, it waits.
        const other = this.o.cluster.ownerOf(task.task_id);
        if (other !== undefined) redirect(elsewhere, other, task.task_id);
        else {
          unowned.push(task);
          waits = true;
        }
        continue;
      }
      const to = this.o.directory.runnerElsewhere(task.task_type, from);
      if (to === undefined) {
        left.push(task);
        if (this.o.directory.mayRunSoon(task.task_type, from)) waits = true;
        continue;
      }
      to.placedSinceHeartbeat++; // the next of the batch sees it fuller
      going.push({ task, id: task.task_id, owner, to });
    }
    const byTarget = groupBy(going, (g) => g.to);
    const moved: string[] = [];
    await Promise.all(
      [...byTarget].map(async ([to, group]) => {
        const ok = await moveHandedBack(this.o.ledger, from, to.id, group).catch(() => []);
        group.forEach((g, k) => {
          if (ok[k] !== true) {
            to.placedSinceHeartbeat--;
            return;
          }
          this.o.moved(g.task, to.id);
          moved.push(g.id);
        });
      }),
    );
    const now = performance.now();
    if (waits && now < asked.until) {
      // Settled again on the next heartbeat taken (heard()), and at the bound at the latest: a
      // coordinator that hears the distributors only through another's view takes no heartbeat.
      setTimeout(() => this.heard(), asked.until - now + 1).unref();
      // What moved now is answered with the rest, once they are settled (one answer per ask).
      this.waiting.push({
        ...asked,
        tasks: [...left, ...unowned],
        answer: (more) =>
          asked.answer({
            moved: [...moved, ...more.moved],
            waiting: more.waiting,
            elsewhere: [...elsewhere, ...more.elsewhere],
          }),
      });
      return;
    }
    // Kept: those whose type's runners are all dead but remembered wait for one (asked again),
    // and so do those whose shard no coordinator is known to own now. The directory is asked
    // once per type in a call (each answer looks up the type's runners and their health).
    const awaits = oncePerKey((type: string) => this.o.directory.awaitsRunner(type));
    const waiting = left.filter((t) => awaits(t.task_type)).map((t) => t.task_id);
    for (const t of unowned) waiting.push(t.task_id);
    asked.answer({ moved, waiting, elsewhere });
  }
}
