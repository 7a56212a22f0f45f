/** Where a task is in its life (seed: TaskStatus). The wire and the store carry the lowercase value. */
export enum TaskStatus {
  PENDING = "pending",
  IN_PROGRESS = "in_progress",
  COMPLETED = "completed",
  FAILED = "failed",
  ABANDONED = "abandoned",
  /** Waiting for a person's answer (SPEC "Waiting for input"): holds no worker, not terminal. */
  INPUT_REQUIRED = "input_required",
}

/** What an agent is doing (seed: AgentStatus). */
export enum AgentStatus {
  IDLE = "idle",
  BUSY = "busy",
  ERROR = "error",
  RECOVERING = "recovering",
}

/** Statuses a task never leaves: its outcome is committed. */
export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  TaskStatus.COMPLETED,
  TaskStatus.FAILED,
  TaskStatus.ABANDONED,
]);

/** Whether a status read from the wire or a record (a plain string) is terminal. */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL_TASK_STATUSES.has(status as TaskStatus);
}
