import type { CoordinatorAgent } from "../../agents/index.js";
import { builtinHandlers } from "../../agents/index.js";

export const BUILTIN_TASK_TYPES: readonly string[] = Object.keys(builtinHandlers());

/**
 * The task types this cluster can run now: those its live workers advertise in their
 * heartbeats (built-in and registered). `workersKnown` is false while no live worker has said
 * what it runs (a worker's first heartbeat comes a moment after it registers), when nothing can
 * be said yet about what will run.
 */
export function clusterTaskTypes(coordinator: CoordinatorAgent): { types: string[]; workersKnown: boolean } {
  const types = new Set<string>();
  let workersKnown = false;
  for (const distributor of coordinator.core.directory.all()) {
    if (distributor.status === "dead") continue;
    for (const worker of distributor.workers) {
      if (worker.status === "dead" || worker.task_types.length === 0) continue;
      workersKnown = true;
      for (const t of worker.task_types) types.add(t);
    }
  }
  return { types: [...types].sort(), workersKnown };
}
