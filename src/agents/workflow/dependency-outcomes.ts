import type { TaskLedger } from "../ledger/task-ledger.js";
import type { DispatchedTask, TaskDict } from "../protocol.js";

export type DependencyOutcomes = NonNullable<DispatchedTask["dependencies"]>;

/**
 * The outcome of each of a task's dependencies, read from their records when an attempt is
 * dispatched (its handler's ctx.dependencies). A record that expired before the task ran (its
 * retention passed) reads as abandoned with error "record expired".
 */
export async function dependencyOutcomes(ledger: TaskLedger, task: TaskDict): Promise<DependencyOutcomes> {
  const ids = task.depends_on ?? [];
  const outcomes = await Promise.all(ids.map((id) => ledger.outcome(id)));
  const out: DependencyOutcomes = {};
  ids.forEach((id, i) => {
    out[id] = outcomes[i] ?? { status: "abandoned", result: null, error: "record expired" };
  });
  return out;
}
