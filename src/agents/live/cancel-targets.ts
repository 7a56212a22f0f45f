import type { WorkerRegistry } from "../distributor/worker-registry.js";
import type { AttemptCancelWire } from "../protocol.js";

/**
 * Where a distributor passes a cancel on: the worker each attempt runs on here (by the
 * registry), else the worker the coordinator named from the record. Attempts at or above the
 * cancel's fence are newer than the cancel and left alone.
 */
export function cancelTargets(
  registry: WorkerRegistry,
  tasks: AttemptCancelWire[],
): Map<string, AttemptCancelWire[]> {
  const out = new Map<string, AttemptCancelWire[]>();
  const add = (workerId: string, t: AttemptCancelWire) => {
    const list = out.get(workerId);
    if (list === undefined) out.set(workerId, [t]);
    else list.push(t);
  };
  for (const t of tasks) {
    let found = false;
    for (const w of registry.all()) {
      const f = w.inFlight.get(t.task_id);
      if (f === undefined || (f.fence > 0 && f.fence >= t.fence)) continue;
      add(w.id, { task_id: t.task_id, fence: t.fence });
      found = true;
    }
    if (!found && t.worker !== undefined && registry.get(t.worker) !== undefined)
      add(t.worker, { task_id: t.task_id, fence: t.fence });
  }
  return out;
}
