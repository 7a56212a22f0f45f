import { TriadError } from "../errors.js";
import { type KeysOf, nearestKey } from "../known-keys.js";
import type { TaskInit } from "./task.js";

/**
 * new Task() takes the camelCase names (SPEC: `{ taskId, taskType, ... }`); the dict's snake_case
 * keys are Task.fromDict's. A key it does not know (`taskid`, `task_id`) was dropped, and the
 * task refused as `invalid task.task_id: ... received undefined`, naming neither the key given
 * nor the one meant. Refused with ERR_INVALID_TASK naming both.
 */
const TASK_INIT_KEYS: KeysOf<TaskInit> = {
  taskId: true,
  taskType: true,
  payload: true,
  status: true,
  result: true,
  error: true,
  attempts: true,
  assignedTo: true,
  createdAt: true,
  startedAt: true,
  completedAt: true,
  dependsOn: true,
  waitingOn: true,
  onDependencyFailure: true,
  parentId: true,
  priority: true,
  runAt: true,
  expiresAt: true,
  inputRequest: true,
  inputTimeoutMs: true,
  inputs: true,
  progress: true,
  fencingToken: true,
};

/** `task_id` -> `taskId`. */
function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Throws ERR_INVALID_TASK on a key of `init` that new Task() does not take. */
export function checkTaskInitKeys(init: object): void {
  const known = Object.keys(TASK_INIT_KEYS);
  for (const key of Object.keys(init)) {
    if (Object.hasOwn(TASK_INIT_KEYS, key)) continue;
    const camel = camelCase(key);
    if (camel !== key && Object.hasOwn(TASK_INIT_KEYS, camel)) {
      throw new TriadError(
        "ERR_INVALID_TASK",
        `new Task(): unknown key ${key}; it takes the camelCase names (${camel}), Task.fromDict() the dict's snake_case keys`,
        { key },
      );
    }
    const near = nearestKey(key, known);
    throw new TriadError(
      "ERR_INVALID_TASK",
      `new Task(): unknown key ${key}${near === undefined ? "" : ` (did you mean ${near}?)`}; the known ones are ${known.join(", ")}`,
      { key },
    );
  }
}
