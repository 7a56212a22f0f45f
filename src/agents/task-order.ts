import { TASK_KEYS } from "./packed-tasks.js";
import { taskDictSchema } from "./protocol.js";

/** A task dict's members in SPEC's order (the schema's): how the ledger records and answers them. */
const TASK_ORDER: readonly string[] = Object.keys(taskDictSchema.shape);
const RANK = new Map(TASK_ORDER.map((key, i) => [key, i]));

/**
 * `task` with its members in SPEC's order (task_id, task_type, payload, status, ...; a member the
 * schema does not name last): as recorded. A task that travelled between processes comes in the
 * signed message's canonical order, sorted (assigned_to, attempts, ...), so a record answered
 * from a distributor's report was printed in another order than the same record read from the
 * store. Already in order: the same object.
 */
export function inTaskOrder<T extends object>(task: T): T {
  if (isSortedPlainTask(task)) return plainInTaskOrder(task) as T;
  let last = -1;
  let ordered = true;
  for (const key in task) {
    const rank = RANK.get(key) ?? TASK_ORDER.length;
    if (rank < last) {
      ordered = false;
      break;
    }
    last = rank;
  }
  if (ordered) return task;
  const from = task as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of TASK_ORDER) if (Object.hasOwn(from, key)) out[key] = from[key];
  for (const key in from) if (!RANK.has(key)) out[key] = from[key];
  return out as T;
}

/** A plain task dict: no workflow, schedule, input or progress key. */
type PlainTask = Record<(typeof TASK_KEYS)[number], unknown>;

/**
 * Whether `task` has exactly a plain task dict's members, in sorted order (TASK_KEYS): how a
 * distributor writes the dict it reports (committed-task.ts), canonical JSON's order, and so what
 * nearly every report carries.
 */
function isSortedPlainTask(task: object): task is PlainTask {
  let i = 0;
  for (const key in task) if (key !== TASK_KEYS[i++]) return false;
  return i === TASK_KEYS.length;
}

/**
 * A plain task dict in SPEC's order as one literal: what the general reordering makes, an object
 * of one shape made at once (that one adds eleven members one by one to an empty object).
 */
function plainInTaskOrder(t: PlainTask): PlainTask {
  return {
    task_id: t.task_id,
    task_type: t.task_type,
    payload: t.payload,
    status: t.status,
    result: t.result,
    error: t.error,
    attempts: t.attempts,
    assigned_to: t.assigned_to,
    created_at: t.created_at,
    started_at: t.started_at,
    completed_at: t.completed_at,
  };
}
