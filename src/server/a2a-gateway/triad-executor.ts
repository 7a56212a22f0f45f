import { type Message, TaskState } from "@a2a-js/sdk";
import {
  AgentEvent,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import type { CoordinatorAgent } from "../../agents/index.js";
import type { TaskDict } from "../../agents/protocol.js";
import { isStoreUnavailable, isTriadError } from "../../core/errors.js";
import { heldReferences } from "./held-references.js";
import { inputOf, notWaitingForInput } from "./input-message.js";
import type { MessageClaims } from "./message-claims.js";
import { messageKeyOf } from "./message-keys.js";
import { submitRefusals } from "./store-unavailable.js";
import type { TaskFollower } from "./task-follower.js";
import { readTaskInput } from "./task-input.js";
import { judgeTaskType } from "./task-type-judge.js";
import { agentMessage, stateOf, TERMINAL_STATES, toA2ATask } from "./task-view.js";

export type TriadExecutorOptions = {
  coordinator: CoordinatorAgent;
  follower: TaskFollower;
  /** The A2A tasks (a message sent again answers the one it started). */
  tasks: Pick<TaskStore, "load">;
  /** Which task each message started (by its messageId), across coordinators. */
  claims: MessageClaims;
  /** False once the gateway closes: new work is refused. */
  accepting: () => boolean;
  /** Aborted when the gateway closes. */
  signal: AbortSignal;
  /** Until then (epoch ms) a task type is judged only once every live worker has reported. */
  settleUntil: number;
  /** Until then (epoch ms), while no distributor has ever registered, one is waited for. */
  noDistributorUntil: number;
  /** Plain-text messages run as tasks of this type (--a2a-text-type). */
  textTaskType?: string | undefined;
};

/**
 * The A2A side of a SendMessage: the message's data part becomes a Triad task whose id is the
 * A2A task id, and its progress is published until it is terminal. Input Triad cannot run is
 * refused (REJECTED, with the reason) before anything is recorded. Just after a start the
 * task type is judged once every live worker has reported what it runs (judgeTaskType),
 * so neither a known type is refused nor an unknown one accepted for want of a heartbeat.
 */
export class TriadExecutor implements AgentExecutor {
  constructor(private readonly o: TriadExecutorOptions) {}

  async execute(request: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { contextId } = request;
    const message = heldReferences.giveBack(request.userMessage, messageKeyOf(request.context));
    // A message naming a task waiting for input is its input (checked in refuseUnrunnable).
    if (request.task !== undefined) return this.answer(request, contextId, message, bus);
    const input = readTaskInput(message, this.o.textTaskType);
    if (!input.ok) return this.reject(bus, request.taskId, contextId, message, input.reason);
    if (!this.o.accepting()) {
      return this.reject(
        bus,
        request.taskId,
        contextId,
        message,
        "the coordinator is shutting down; try another or later",
      );
    }
    // The same message sent again is the task its first send started (taken up under that
    // id when it was never recorded: the submit below refuses an id that exists).
    let taskId: string;
    try {
      taskId = await this.o.claims.claim(request.context, request.taskId);
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      submitRefusals.note(messageKeyOf(request.context), err);
      return this.reject(bus, request.taskId, contextId, message, `unavailable, retry: ${err.message}`);
    }
    if (taskId !== request.taskId && (await this.answerSentBefore(taskId, request.context, bus))) return;
    const unknown = await judgeTaskType(this.o.coordinator, input.taskType, {
      settleUntil: this.o.settleUntil,
      noDistributorUntil: this.o.noDistributorUntil,
      signal: this.o.signal,
    });
    if (unknown !== null) return this.reject(bus, taskId, contextId, message, unknown);
    const task: TaskDict = {
      task_id: taskId,
      task_type: input.taskType,
      payload: input.payload,
      status: "pending",
      result: null,
      error: null,
      attempts: 0,
      assigned_to: null,
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
      ...(input.dependsOn ? { depends_on: input.dependsOn } : {}),
      ...(input.onDependencyFailure ? { on_dependency_failure: input.onDependencyFailure } : {}),
      ...input.schedule,
    };
    let submitted: boolean;
    try {
      submitted = await this.o.coordinator.submitTask(task);
    } catch (err) {
      // A dependency that is not known, or on itself: refused with the reason, nothing recorded.
      if (isTriadError(err) && err.code === "ERR_INVALID_TASK")
        return this.reject(bus, taskId, contextId, message, err.message);
      if (!isStoreUnavailable(err)) throw err;
      // The handler answers the request with StoreUnavailableError instead of this refusal.
      submitRefusals.note(messageKeyOf(request.context), err);
      return this.reject(bus, taskId, contextId, message, `unavailable, retry: ${err.message}`);
    }
    // Recorded meanwhile by the first send of the same message: answered as it stands.
    if (!submitted && (await this.answerSentBefore(taskId, request.context, bus))) return;
    const view = toA2ATask(task, undefined);
    bus.publish(AgentEvent.task({ ...view, contextId, history: [message] }));
    await this.o.follower.follow(taskId, contextId, bus, TaskState.TASK_STATE_SUBMITTED);
  }

  /**
   * A message sent before, whose task is known: the task as it stands, then its changes until
   * it ends (nothing runs again). False when the first send has not recorded it (yet), or
   * refused it (REJECTED: it never became a task, and the refusal may have been "unavailable,
   * retry"): the retry is judged afresh, under the same id.
   */
  private async answerSentBefore(
    taskId: string,
    context: RequestContext["context"],
    bus: ExecutionEventBus,
  ): Promise<boolean> {
    const task = await this.o.tasks.load(taskId, context);
    const state = task?.status?.state;
    if (task === undefined || state === undefined || state === TaskState.TASK_STATE_REJECTED) return false;
    bus.publish(AgentEvent.task(task));
    if (!TERMINAL_STATES.has(state)) await this.o.follower.follow(taskId, task.contextId, bus, state);
    return true;
  }

  /**
   * Gives the message (its data part, or its text) as the input of the task it names, then
   * follows the task under the same id until it ends or asks again. An answer that comes second
   * changes nothing (the first wins) and is the request's error, ERR_NOT_WAITING_FOR_INPUT, as
   * POST /tasks/:id/input's 409: answered as a success, its sender believed it taken.
   */
  private async answer(request: RequestContext, contextId: string, message: Message, bus: ExecutionEventBus) {
    const envelope = request.task!;
    const taskId = envelope.id;
    const value = inputOf(message) ?? null;
    let given: boolean;
    try {
      given = await this.o.coordinator.provideInput(taskId, value);
    } catch (err) {
      // An input refused (too large for its task to be sent): the request's error, the task
      // still waiting; the SDK would answer a throw here as a task that failed.
      if (!isStoreUnavailable(err) && !isTriadError(err, "ERR_INPUT_TOO_LARGE")) throw err;
      submitRefusals.note(messageKeyOf(request.context), err);
      return;
    }
    // The task as it stands comes first (a stream starts with it), then its changes.
    const now = await this.o.coordinator.core.getTask(taskId);
    if (!given) {
      const state = now === null ? undefined : stateOf(now);
      submitRefusals.note(messageKeyOf(request.context), notWaitingForInput(taskId, state));
      return;
    }
    if (now !== null) bus.publish(AgentEvent.task({ ...toA2ATask(now, envelope), contextId }));
    // Given: it is pending again.
    await this.o.follower.follow(taskId, contextId, bus, TaskState.TASK_STATE_SUBMITTED);
  }

  /**
   * A pending or in-progress task ends abandoned ("canceled by client"): the ledger moves its
   * fence on in the same step, so the result of an attempt still running is refused when it
   * comes. The task's follower publishes CANCELED once the coordinator has the outcome.
   */
  async cancelTask(taskId: string): Promise<void> {
    await this.o.coordinator.cancelTask(taskId); // false: unknown, or already finished
  }

  private reject(
    bus: ExecutionEventBus,
    taskId: string,
    contextId: string,
    message: Message,
    why: string,
  ): void {
    const status = {
      state: TaskState.TASK_STATE_REJECTED,
      message: agentMessage(taskId, contextId, "rejected", why),
      timestamp: new Date().toISOString(),
    };
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status,
        artifacts: [],
        history: [message],
        metadata: undefined,
      }),
    );
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status, metadata: undefined }));
  }
}
