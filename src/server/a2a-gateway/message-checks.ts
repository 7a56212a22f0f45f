import { type SendMessageRequest, TaskState } from "@a2a-js/sdk";
import { ContentTypeNotSupportedError, RequestMalformedError, TaskNotFoundError } from "@a2a-js/sdk/errors";
import type { ServerCallContext, TaskStore } from "@a2a-js/sdk/server";
import { depthProblem } from "../../agents/payload-depth.js";
import { isPlainObject } from "../../core/json.js";
import { inputProblem, notWaitingError, notWaitingForInput } from "./input-message.js";

/**
 * What makes a SendMessage an error of the request itself rather than a task refused: each
 * check throws the A2A error the protocol names for it, before any task exists, so the
 * client sees why at once and nothing waits on it.
 */
export async function refuseUnrunnable(
  params: SendMessageRequest,
  store: TaskStore,
  context: ServerCallContext,
): Promise<void> {
  const isInput = await refuseFollowUp(params, store, context);
  refuseFiles(params);
  if (!isInput) refuseTooDeep(params);
}

/**
 * A Triad task takes one message, and then one per question it asks: a message naming a task
 * waiting for input (INPUT_REQUIRED) is its input (true). A message naming a task that does
 * not exist is TaskNotFoundError (A2A 3.4.2, a MUST); one naming a task that does not wait for
 * input is refused as an operation Triad does not support (for a finished task, what A2A
 * 3.1.1 asks for), with ERR_NOT_WAITING_FOR_INPUT as POST /tasks/:id/input's 409.
 */
async function refuseFollowUp(
  params: SendMessageRequest,
  store: TaskStore,
  context: ServerCallContext,
): Promise<boolean> {
  const taskId = params.message?.taskId;
  if (!taskId) return false;
  const task = await store.load(taskId, context);
  if (task === undefined) {
    throw new TaskNotFoundError(
      `task ${JSON.stringify(taskId)} is unknown; send a new message without taskId to start a task`,
    );
  }
  if (task.status?.state === TaskState.TASK_STATE_INPUT_REQUIRED) {
    const problem = inputProblem(params.message!);
    if (problem !== null) throw new RequestMalformedError(problem);
    return true;
  }
  throw notWaitingError(notWaitingForInput(taskId, task.status?.state));
}

/** Triad reads data and text parts; a file (raw bytes or a URL) is a media type it cannot take. */
function refuseFiles(params: SendMessageRequest): void {
  for (const part of params.message?.parts ?? []) {
    const kind = part.content?.$case;
    if (kind === "raw" || kind === "url") {
      throw new ContentTypeNotSupportedError(
        `a file part (${part.mediaType || "no media type"}) cannot be run: Triad takes a data part (application/json) or text`,
      );
    }
  }
}

/** A payload too deep to run (JSON-RPC -32602, invalid params). */
function refuseTooDeep(params: SendMessageRequest): void {
  for (const part of params.message?.parts ?? []) {
    const data = part.content?.$case === "data" ? (part.content.value as unknown) : undefined;
    const problem = isPlainObject(data) ? depthProblem(data.payload, "payload") : null;
    if (problem !== null) throw new RequestMalformedError(problem);
  }
}
