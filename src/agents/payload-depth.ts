import { TriadError } from "../core/errors.js";
import { isPlainJson, jsonDepth } from "../core/json.js";
import { MAX_JSON_DEPTH } from "../core/messaging/plain-json.js";

/**
 * Levels a message nests above a task's payload on its deepest hop, execute_tasks:
 * message.payload > event_data > tasks > [i] > task > payload. (A result sits one level higher,
 * in task_results and task_terminal.)
 */
export const ENVELOPE_DEPTH = 5;

/**
 * How deep a task's payload — and a handler's result — may nest, the payload itself counting as
 * one level. A signed message nests at most MAX_JSON_DEPTH (64) levels; a payload of half that
 * fits in its deepest envelope with 27 levels to spare, for a handler that returns its input
 * wrapped and for envelopes that grow. Checked at every entry (REST, the A2A gateway,
 * CoordinatorAgent.submitTask), so nothing accepted is too deep to be sent.
 */
export const MAX_PAYLOAD_DEPTH = MAX_JSON_DEPTH / 2;

/** Why `value` is too deep to be a task's payload or result, or null when it is not. */
export function depthProblem(value: unknown, what: string): string | null {
  // The common case first: isPlainJson allocates nothing and stops at the limit.
  if (isPlainJson(value, MAX_PAYLOAD_DEPTH - 1)) return null;
  if (jsonDepth(value, MAX_PAYLOAD_DEPTH) <= MAX_PAYLOAD_DEPTH) return null;
  // A cycle is endlessly deep to the depth walk, but what is wrong with it is that it is not JSON.
  if (isCyclic(value)) return `${what} is not JSON: it contains a cycle`;
  return `${what} is nested more than ${MAX_PAYLOAD_DEPTH} levels deep (the limit of a task's payload and result)`;
}

/** Throws ERR_INVALID_TASK, naming the task, when its payload nests deeper than MAX_PAYLOAD_DEPTH. */
export function checkPayloadDepth(payload: unknown, taskId: unknown): void {
  const problem = depthProblem(payload, "payload");
  if (problem === null) return;
  const task = typeof taskId === "string" ? `task ${JSON.stringify(taskId)}: ` : "";
  throw new TriadError("ERR_INVALID_TASK", `${task}${problem}`, { status: 422 });
}

/** True when JSON.stringify finds a cycle (it checks before it recurses far; only on the error path). */
export function isCyclic(value: unknown): boolean {
  try {
    JSON.stringify(value, (_key, member: unknown) => (typeof member === "bigint" ? null : member));
    return false;
  } catch (err) {
    return err instanceof TypeError && /circular/i.test(err.message);
  }
}
