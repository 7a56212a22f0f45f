import {
  type Artifact,
  type Message,
  type Part,
  Role,
  type Task,
  TaskState,
  type TaskStatus,
} from "@a2a-js/sdk";
import { CANCELED_BY_CLIENT } from "../../agents/coordinator/coordinator-agent.js";
import type { TaskDict } from "../../agents/protocol.js";
import type { JsonValue } from "../../core/json.js";

/**
 * How a Triad task looks to an A2A client. Triad's record is the truth for the state and the
 * result; the A2A-only parts (the context id, the conversation) come from beside it.
 *
 *   pending      -> SUBMITTED
 *   in_progress  -> WORKING
 *   completed    -> COMPLETED, the result as a data-part artifact
 *   failed       -> FAILED, the error as the status message
 *   abandoned    -> CANCELED when a client canceled it, else FAILED with the reason
 *   input_required -> INPUT_REQUIRED, the request as a data part of the status message
 */

/** The artifact that carries a completed task's result. */
export const RESULT_ARTIFACT_ID = "result";

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

/** A state as a person reads it: TASK_STATE_COMPLETED is "completed" (not the enum's number). */
export function stateLabel(state: TaskState): string {
  return (TaskState[state] ?? String(state))
    .replace(/^TASK_STATE_/, "")
    .toLowerCase()
    .replace(/_/g, "-");
}

export function stateOf(task: TaskDict): TaskState {
  switch (task.status) {
    case "pending":
      return TaskState.TASK_STATE_SUBMITTED;
    case "in_progress":
      return TaskState.TASK_STATE_WORKING;
    case "completed":
      return TaskState.TASK_STATE_COMPLETED;
    case "failed":
      return TaskState.TASK_STATE_FAILED;
    case "abandoned":
      return task.error === CANCELED_BY_CLIENT ? TaskState.TASK_STATE_CANCELED : TaskState.TASK_STATE_FAILED;
    case "input_required":
      return TaskState.TASK_STATE_INPUT_REQUIRED;
  }
}

/** The task's status: its state, when it was entered, and for a failure the reason. */
export function statusOf(task: TaskDict, contextId: string): TaskStatus {
  const state = stateOf(task);
  const timestamp = task.completed_at ?? task.started_at ?? task.created_at;
  if (task.status === "input_required") {
    return { state, message: inputRequestMessage(task, contextId), timestamp };
  }
  const why =
    task.status === "failed" || task.status === "abandoned" ? (task.error ?? task.status) : undefined;
  return {
    state,
    message: why === undefined ? undefined : agentMessage(task.task_id, contextId, `${task.status}`, why),
    timestamp,
  };
}

/** A message from Triad; its id is derived from the task and the occasion, so that saving it twice keeps one. */
export function agentMessage(taskId: string, contextId: string, occasion: string, text: string): Message {
  return {
    messageId: `${taskId}:${occasion}`,
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

/** What an input_required task asks for, as a data part (a null request as JSON text). */
function inputRequestMessage(task: TaskDict, contextId: string): Message {
  const request = task.input_request ?? null;
  const occasion = `input_required:${task.inputs?.length ?? 0}`;
  return {
    ...agentMessage(task.task_id, contextId, occasion, ""),
    parts: [request === null ? { ...textPart("null"), mediaType: "application/json" } : dataPart(request)],
  };
}

export function resultArtifact(result: JsonValue): Artifact {
  return {
    artifactId: RESULT_ARTIFACT_ID,
    name: "result",
    description: "What the task's handler returned",
    // A data part cannot hold null (the SDK reads it as "no content"), so null goes as JSON text.
    parts: [result === null ? { ...textPart("null"), mediaType: "application/json" } : dataPart(result)],
    metadata: undefined,
    extensions: [],
  };
}

/** The A2A task for a Triad task; `envelope` holds what A2A keeps beside it (context, history). */
export function toA2ATask(task: TaskDict, envelope: Task | undefined): Task {
  const contextId = envelope?.contextId || task.task_id;
  return {
    id: task.task_id,
    contextId,
    status: statusOf(task, contextId),
    artifacts: task.status === "completed" ? [resultArtifact(task.result)] : [],
    history: envelope?.history ?? [],
    metadata: {
      ...envelope?.metadata,
      triad: {
        task_type: task.task_type,
        status: task.status,
        attempts: task.attempts,
        assigned_to: task.assigned_to,
        created_at: task.created_at,
        started_at: task.started_at,
        completed_at: task.completed_at,
      },
    },
  };
}

export function textPart(text: string): Part {
  return {
    content: { $case: "text", value: text },
    metadata: undefined,
    filename: "",
    mediaType: "text/plain",
  };
}

export function dataPart(value: JsonValue): Part {
  return {
    content: { $case: "data", value },
    metadata: undefined,
    filename: "",
    mediaType: "application/json",
  };
}
