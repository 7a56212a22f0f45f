import { Outbox } from "../outbox.js";
import type { AgentPayload, TaskDict } from "../protocol.js";
import { sendSplitting } from "../split-send.js";

/**
 * The ends a distributor reports (task_terminal), batched per coordinator. Best effort: the
 * coordinator also finds terminal records in Redis by itself. A report to a coordinator that no
 * longer answers (one that placed tasks here) goes to the one heartbeated instead. A task whose
 * committed attempt spawned tasks is named in the message's `spawns` (only when there are some:
 * a plain batch's message is as it always was), so that the coordinator shows its end only once
 * its spawned tasks exist (WorkflowKeeper.settleNow).
 */
export class TerminalReports {
  private readonly outbox: Outbox<TaskDict>;
  /** Reported task dicts whose committed attempt spawned tasks. */
  private readonly spawning = new WeakSet<TaskDict>();

  private readonly home: () => string;

  constructor(o: {
    send: (recipient: string, payload: AgentPayload) => Promise<void>;
    /** The coordinator this distributor heartbeats now. */
    home: () => string;
    unsendable?: ((taskId: string, reason: string) => void) | undefined;
    batching: ConstructorParameters<typeof Outbox<TaskDict>>[1];
  }) {
    this.home = o.home;
    this.outbox = new Outbox(
      (to, tasks) =>
        sendSplitting(
          tasks,
          (part) => o.send(to, this.payload(part)),
          (task, why) => o.unsendable?.(task.task_id, `its end cannot be reported: ${why}`),
        ).catch(() => {
          // A coordinator that placed tasks here and no longer answers: the one heartbeated hears instead.
          const home = o.home();
          if (to !== home) for (const task of tasks) this.outbox.push(home, task);
        }),
      o.batching,
    );
  }

  /** `task` ended: its end goes to coordinator `to` (`spawned`: its committed attempt spawned tasks). */
  report(to: string, task: TaskDict, spawned: boolean): void {
    if (spawned) this.spawning.add(task);
    this.outbox.push(to, task);
  }

  /**
   * A task that ended here (a commit, or an expiry found at dispatch): its end goes to the
   * coordinator that placed it (`placedBy`, where it is forgotten now), else to the one heartbeated.
   */
  ended(placedBy: Map<string, string>, taskId: string, task: TaskDict | null, spawned: boolean): void {
    const placer = placedBy.get(taskId);
    if (placer !== undefined) placedBy.delete(taskId);
    if (task !== null) this.report(placer ?? this.home(), task, spawned);
  }

  flushAll(): void {
    this.outbox.flushAll();
  }

  close(): void {
    this.outbox.close();
  }

  private payload(tasks: TaskDict[]): AgentPayload {
    let spawns: string[] | undefined;
    for (const task of tasks) {
      if (!this.spawning.has(task)) continue;
      spawns ??= [];
      spawns.push(task.task_id);
    }
    // Members in sorted order (kind, spawns, tasks), as canonical JSON writes them.
    return spawns === undefined ? { kind: "task_terminal", tasks } : { kind: "task_terminal", spawns, tasks };
  }
}
