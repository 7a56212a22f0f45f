import { type Message, Role, TaskState } from "@a2a-js/sdk";
import { AgentEvent, type ExecutionEventBus } from "@a2a-js/sdk/server";
import type { CoordinatorAgent } from "../../agents/index.js";
import { changeType, eventIdOf, TaskWatch } from "../../agents/live/task-changes.js";
import type { TaskDict } from "../../agents/protocol.js";
import type { Logger } from "../../core/logger.js";
import { dataPart, resultArtifact, stateOf, statusOf, TERMINAL_STATES } from "./task-view.js";

export type TaskFollowerOptions = {
  coordinator: CoordinatorAgent;
  /** Aborted when the gateway closes: every follower stops, publishing nothing more. */
  signal: AbortSignal;
  log: Logger;
};

/**
 * Turns a Triad task's changes into A2A events on a bus — the same changes GET /tasks/:id/events
 * streams (src/agents/live/task-changes.ts): a status update when an attempt starts, when its
 * handler reports progress (the value as a data part `{ progress }` of the status message) and
 * on any other change, then the terminal status (with the result artifact first when it
 * completed). The store is read about 4 times a second for every followed task at once, and a
 * task this coordinator hears has ended is read at once.
 */
export class TaskFollower {
  private readonly watch: TaskWatch;
  private readonly unfollow: () => void;

  constructor(private readonly o: TaskFollowerOptions) {
    // A parent's end is read once its spawned tasks exist (CoordinatorCore.readTask).
    this.watch = new TaskWatch({ read: (id) => o.coordinator.core.readTask(id) });
    this.unfollow = o.coordinator.observer.on((a) => {
      if (a.type === "terminal" || a.type === "ended_elsewhere") this.watch.poke(a.task.task_id);
    });
    o.signal.addEventListener(
      "abort",
      () => {
        this.unfollow();
        this.watch.stop();
      },
      { once: true },
    );
  }

  /** Resolves once the task is terminal and said so on `bus`, or is unknown, or the gateway closes. */
  follow(taskId: string, contextId: string, bus: ExecutionEventBus, from: TaskState): Promise<void> {
    const { signal } = this.o;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let last: TaskDict | null = null;
      let unwatch = () => {};
      const finish = () => {
        unwatch();
        signal.removeEventListener("abort", finish);
        resolve();
      };
      const onTask = (task: TaskDict | null) => {
        if (signal.aborted) return finish();
        if (task === null) return finish();
        const change = changeType(last, task);
        const first = last === null;
        last = task;
        if (change === null) return;
        const state = stateOf(task);
        if (TERMINAL_STATES.has(state)) {
          if (task.status === "completed") {
            bus.publish(
              AgentEvent.artifactUpdate({
                taskId,
                contextId,
                artifact: resultArtifact(task.result),
                append: false,
                lastChunk: true,
                metadata: undefined,
              }),
            );
          }
          bus.publish(statusUpdate(task, contextId));
          return finish();
        }
        // The client already has the task as it was sent: the first look says only what is new.
        if (first && state === from && task.progress === undefined) return;
        bus.publish(statusUpdate(task, contextId));
        // Waiting for input ends this turn: the message that answers follows the task on.
        if (state === TaskState.TASK_STATE_INPUT_REQUIRED) return finish();
      };
      signal.addEventListener("abort", finish, { once: true });
      unwatch = this.watch.watch(taskId, onTask);
      this.watch.poke(taskId);
    });
  }
}

function statusUpdate(task: TaskDict, contextId: string) {
  const status = statusOf(task, contextId);
  if (status.message === undefined && task.progress !== undefined)
    status.message = progressMessage(task, contextId);
  return AgentEvent.statusUpdate({ taskId: task.task_id, contextId, status, metadata: undefined });
}

/** A status message carrying the handler's latest progress as a data part `{ progress }`. */
function progressMessage(task: TaskDict, contextId: string): Message {
  return {
    messageId: `${task.task_id}:progress:${eventIdOf(task)}`,
    contextId,
    taskId: task.task_id,
    role: Role.ROLE_AGENT,
    parts: [dataPart({ progress: task.progress ?? null })],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}
