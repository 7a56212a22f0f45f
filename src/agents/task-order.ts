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
