import type { Message, TaskState } from "@a2a-js/sdk";
import { type A2AError, UnsupportedOperationError } from "@a2a-js/sdk/errors";
import { depthProblem } from "../../agents/payload-depth.js";
import { TriadError } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import { stateLabel } from "./task-view.js";

/**
 * The input a SendMessage gives to the task it names (a task waiting for input, SPEC "Waiting
 * for input"): its data part's value, or else its text parts joined by newlines. Undefined when
 * the message has neither. A message with several data parts, or a data value too deep for a task
 * to carry, is refused by the caller (inputProblem).
 */
export function inputOf(message: Message): JsonValue | undefined {
  for (const part of message.parts) {
    if (part.content?.$case === "data") return (part.content.value ?? null) as JsonValue;
  }
  const texts = message.parts.flatMap((p) => (p.content?.$case === "text" ? [p.content.value] : []));
  return texts.length > 0 ? texts.join("\n") : undefined;
}

/** Why the message cannot be the input of a task, or null. */
export function inputProblem(message: Message): string | null {
  // Two data parts are two inputs for one question: the first alone would drop the others unsaid.
  const dataParts = message.parts.filter((p) => p.content?.$case === "data").length;
  if (dataParts > 1)
    return `the input is one data part (any JSON) or text; the message has ${dataParts} data parts`;
  const value = inputOf(message);
  if (value === undefined) return "the input is a data part (any JSON) or text; the message has neither";
  return depthProblem(value, "the input");
}

export const NOT_WAITING_FOR_INPUT = "ERR_NOT_WAITING_FOR_INPUT";

/**
 * Why a message naming a task that does not wait for input (ended, running, or given its input
 * by another answer first) is refused: what POST /tasks/:id/input answers 409.
 */
export function notWaitingForInput(taskId: string, state: TaskState | undefined): TriadError {
  const now = state === undefined ? "gone" : stateLabel(state);
  return new TriadError(
    NOT_WAITING_FOR_INPUT,
    `task ${taskId} is ${now}, not waiting for input (an earlier answer may have been taken): a ` +
      "Triad task takes one message, and one answer per question it asks; send a new message " +
      `without taskId (follow task ${taskId} with GetTask or SubscribeToTask)`,
  );
}

/** That refusal over A2A: an operation Triad does not support (A2A 3.1.1), its code in the message and the ErrorInfo. */
export function notWaitingError(refused: TriadError): A2AError {
  return new UnsupportedOperationError({
    message: `${refused.code}: ${refused.message}`,
    metadata: { code: refused.code },
  });
}
