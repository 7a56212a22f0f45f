import { TaskState } from "@a2a-js/sdk";
import { AgentEvent, type ExecutionEventBus } from "@a2a-js/sdk/server";
import type { CoordinatorAgent } from "../../agents/index.js";
import type { TaskDict } from "../../agents/protocol.js";
import type { Logger } from "../../core/logger.js";
import { resultArtifact, stateOf, statusOf, TERMINAL_STATES } from "./task-view.js";

/** The first look at a task comes this soon; the wait doubles up to MAX_POLL_MS. */
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1000;

export type TaskFollowerOptions = {
  coordinator: CoordinatorAgent;
  /** Aborted when the gateway closes: every follower stops, publishing nothing more. */
  signal: AbortSignal;
  log: Logger;
};

/**
 * Turns a Triad task's progress into A2A events on a bus: WORKING once an attempt has started,
 * then the terminal status (with the result artifact first when it completed). A terminal
 * task is known the moment the coordinator hears of it (waitForTask); that an attempt started
 * is only in the record, so the record is read between waits.
 */
export class TaskFollower {
  constructor(private readonly o: TaskFollowerOptions) {}

  /** Resolves once the task is terminal and said so on `bus`, or is unknown, or the gateway closes. */
  async follow(taskId: string, contextId: string, bus: ExecutionEventBus, from: TaskState): Promise<void> {
    const { signal } = this.o;
    let onAbort = () => {};
    const closed = new Promise<null>((resolve) => {
      onAbort = () => resolve(null);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      let last = from;
      let waitMs = FIRST_POLL_MS;
      while (!signal.aborted) {
        let task: TaskDict | null;
        try {
          const done = await Promise.race([this.o.coordinator.core.waitForTask(taskId, waitMs), closed]);
          if (signal.aborted) return;
          task = done ?? (await this.o.coordinator.core.getTask(taskId));
        } catch (err) {
          // The store is unreachable for a moment: the task is not failed, so keep looking.
          this.o.log.warn(
            { err: (err as Error).message, task: taskId },
            "A2A gateway cannot read a task; retrying",
          );
          await Promise.race([sleep(MAX_POLL_MS), closed]);
          continue;
        }
        if (task === null) return;
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
          return;
        }
        // A retry takes a task back to pending; to the client it is still being worked on.
        if (state === TaskState.TASK_STATE_WORKING && last !== TaskState.TASK_STATE_WORKING) {
          bus.publish(statusUpdate(task, contextId));
          last = state;
        }
        waitMs = Math.min(waitMs * 2, MAX_POLL_MS);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

function statusUpdate(task: TaskDict, contextId: string) {
  return AgentEvent.statusUpdate({
    taskId: task.task_id,
    contextId,
    status: statusOf(task, contextId),
    metadata: undefined,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
