import { isPlainObject } from "../../core/json.js";
import { shownValue } from "../../core/option-kinds.js";
import { idLengthProblem } from "../../core/state/task-id.js";
import { notWellFormed } from "../../core/state/well-formed.js";

/** The methods whose `params.id` names a task. */
export const TASK_ID_METHODS: ReadonlySet<string> = new Set(["GetTask", "CancelTask", "SubscribeToTask"]);
/** The methods whose `params.message` is the message sent. */
export const MESSAGE_METHODS: ReadonlySet<string> = new Set(["SendMessage", "SendStreamingMessage"]);

/**
 * The id the request names that cannot be taken, and why: `params.id` of a method naming a task,
 * a message's `taskId` and `contextId`, ListTasks' `contextId`. Each is a string in A2A 1.0; the
 * SDK took any other value as its string (taskId 5 named the task "5"). Not well-formed Unicode:
 * a lone surrogate has no UTF-8 form, so the store would be asked for the id with U+FFFD in its
 * place (GetTask "a\uD800" answered the task "a\uFFFD"). Longer than a task id: no task has such
 * an id (a 100,000-character one was looked up, and repeated whole in "unknown task"), and a
 * context id is kept with its task and sent with every status update. Refused before anything
 * is read; the id itself is never repeated beyond a short prefix.
 */
export function idProblem(
  method: string,
  params: Record<string, unknown> | undefined,
): [field: string, why: string] | null {
  const named: Array<[string, unknown]> = [];
  if (TASK_ID_METHODS.has(method)) named.push(["params.id", params?.id]);
  if (method === "ListTasks") named.push(["params.contextId", params?.contextId]);
  const message = MESSAGE_METHODS.has(method) ? params?.message : undefined;
  if (isPlainObject(message)) {
    named.push(["params.message.taskId", message.taskId], ["params.message.contextId", message.contextId]);
  }
  for (const [field, value] of named) {
    // Unset is the SDK's to judge (a method naming a task checks params.id is there first).
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") return [field, `must be a string, got ${shownValue(value)}`];
    const why = idLengthProblem(value.length) ?? notWellFormed(value);
    if (why !== null) return [field, why];
  }
  return null;
}
