import { TaskState } from "@a2a-js/sdk";

/** The task states a ListTasks `status` filter names: TASK_STATE_* (UNRECOGNIZED is the SDK's, not A2A's). */
const STATE_NAMES: readonly string[] = Object.keys(TaskState).filter(
  (k) => k.startsWith("TASK_STATE_") && typeof TaskState[k as keyof typeof TaskState] === "number",
);
const STATE_NUMBERS: ReadonlySet<unknown> = new Set(
  STATE_NAMES.map((k) => TaskState[k as keyof typeof TaskState]),
);

/**
 * Why a ListTasks `params.status` is not a task state, or null when it is one or unset. The
 * SDK read any other value as -1 and said "Invalid status filter: -1", never what was sent.
 */
export function listStatusProblem(params: Record<string, unknown> | undefined): string | null {
  const value = params?.status;
  if (value === undefined || value === null) return null;
  if (typeof value === "string" && STATE_NAMES.includes(value)) return null;
  if (typeof value === "number" && STATE_NUMBERS.has(value)) return null;
  const shown = typeof value === "number" ? String(value) : JSON.stringify(value);
  return `Invalid params: params.status must be a task state (${STATE_NAMES.join(", ")}; or its number), got ${shown}`;
}
