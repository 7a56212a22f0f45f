import type { CoordinatorAgent } from "../../agents/index.js";
import { builtinHandlers } from "../../agents/worker/handlers/index.js";

export const BUILTIN_TASK_TYPES: readonly string[] = Object.keys(builtinHandlers());

/** How often a wait for the workers' first heartbeats looks again. */
const SETTLE_POLL_MS = 100;

export type ClusterTaskTypes = {
  types: string[];
  /** Some live worker has said what it runs. */
  workersKnown: boolean;
  /** Every live worker has said what it runs: `types` is the whole list, not a part of it. */
  settled: boolean;
};

/**
 * The task types this cluster can run now: those its live workers advertise in their
 * heartbeats (built-in and registered). `workersKnown` is false while no live worker has said
 * what it runs (a worker's first heartbeat comes a moment after it registers), when nothing can
 * be said yet about what will run.
 */
export function clusterTaskTypes(coordinator: CoordinatorAgent): ClusterTaskTypes {
  const types = new Set<string>();
  let workersKnown = false;
  let silent = 0;
  for (const distributor of coordinator.core.directory.all()) {
    if (distributor.status === "dead") continue;
    for (const worker of distributor.workers) {
      if (worker.status === "dead") continue;
      if (worker.task_types.length === 0) {
        silent += 1;
        continue;
      }
      workersKnown = true;
      for (const t of worker.task_types) types.add(t);
    }
  }
  return { types: [...types].sort(), workersKnown, settled: workersKnown && silent === 0 };
}

/**
 * The cluster's task types once every live worker has reported them, or as they stand at
 * `until` (epoch ms) or when `signal` aborts. Right after a start the coordinator has heard
 * from no worker yet; judging a task type then would refuse work the cluster runs a second
 * later, or accept work it will never run.
 */
export async function settledTaskTypes(
  coordinator: CoordinatorAgent,
  until: number,
  signal: AbortSignal,
): Promise<ClusterTaskTypes> {
  for (;;) {
    const now = clusterTaskTypes(coordinator);
    if (now.settled || Date.now() >= until || signal.aborted) return now;
    await new Promise((resolve) => setTimeout(resolve, Math.min(SETTLE_POLL_MS, until - Date.now())).unref());
  }
}
