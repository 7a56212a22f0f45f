import { hasInputKeys, inputKeysOf } from "../input/task-inputs.js";
import type { CommitReceipt } from "../ledger/task-ledger.js";
import type { AttemptOutcomeWire, TaskDict } from "../protocol.js";
import { hasScheduleKeys, scheduleKeysOf } from "../schedule-controls/task-schedule.js";

/** The task dict a commit made, from the dict held in memory and what the commit wrote. */
export function committedTask(held: TaskDict, outcome: AttemptOutcomeWire, receipt: CommitReceipt): TaskDict {
  const retry = receipt.verdict === "retry";
  const completed = receipt.verdict === "completed";
  // One plain literal, members in sorted order as canonical JSON writes them (task_terminal
  // carries this dict): one shape for every plain task's dict, no spread of empty objects.
  const task: TaskDict = {
    assigned_to: retry ? null : receipt.assignedTo,
    attempts: receipt.attempts,
    completed_at: retry ? null : receipt.completedAt,
    created_at: held.created_at,
    error: completed ? null : (outcome.error ?? "failed"),
    payload: held.payload,
    result: completed ? (outcome.result ?? null) : null,
    started_at: receipt.startedAt,
    status: retry ? "pending" : completed ? "completed" : "failed",
    task_id: held.task_id,
    task_type: held.task_type,
  };
  // A task with progress, workflow, schedule or input keys carries them too.
  if (
    outcome.progress === undefined &&
    held.progress === undefined &&
    !hasWorkflowKeys(held) &&
    !hasScheduleKeys(held) &&
    !hasInputKeys(held)
  )
    return task;
  return {
    ...task,
    ...progressOf(held, outcome),
    ...workflowKeys(held),
    ...scheduleKeysOf(held),
    ...inputKeysOf(held),
  };
}

/** The task's latest progress: the attempt's last value, else what was written before (absent: none). */
function progressOf(held: TaskDict, outcome: AttemptOutcomeWire): Partial<TaskDict> {
  const progress = outcome.progress !== undefined ? outcome.progress : held.progress;
  return progress === undefined ? {} : { progress };
}

/** A task's workflow keys, those it has (SPEC: absent when unused); it ran, so it waits on nothing. */
function workflowKeys(task: TaskDict): Partial<TaskDict> {
  if (!hasWorkflowKeys(task)) return {};
  const keys: Partial<TaskDict> = {};
  if (task.depends_on !== undefined) {
    keys.depends_on = task.depends_on;
    keys.waiting_on = [];
  }
  if (task.on_dependency_failure !== undefined) keys.on_dependency_failure = task.on_dependency_failure;
  if (task.parent_id !== undefined) keys.parent_id = task.parent_id;
  return keys;
}

function hasWorkflowKeys(task: TaskDict): boolean {
  return (
    task.depends_on !== undefined || task.parent_id !== undefined || task.on_dependency_failure !== undefined
  );
}
