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
  complete: boolean;
  /**
   * `complete`, and every live distributor has a live worker that has said what it runs: no
   * distributor known here is still waiting for its workers (one that has just registered, its
   * workers not yet), so nothing known is still to come.
   */
  settled: boolean;
  /** Live workers that have registered but not yet said what they run (their first heartbeat is coming). */
  unreported: number;
  /** Distributors not declared dead. */
  liveDistributors: number;
  /** Distributors known at all, dead or alive (registered in the store, or heard since). */
  knownDistributors: number;
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
  let unreported = 0;
  let liveDistributors = 0;
  let waitingDistributors = 0;
  const all = coordinator.core.directory.all();
  for (const distributor of all) {
    if (distributor.status === "dead") continue;
    liveDistributors += 1;
    let reported = false;
    for (const worker of distributor.workers) {
      if (worker.status === "dead") continue;
      if (worker.task_types.length === 0) {
        unreported += 1;
        continue;
      }
      reported = true;
      for (const t of worker.task_types) types.add(t);
    }
    if (reported) workersKnown = true;
    else waitingDistributors += 1;
  }
  const complete = workersKnown && unreported === 0;
  return {
    types: [...types].sort(),
    workersKnown,
    complete,
    settled: complete && waitingDistributors === 0,
    unreported,
    liveDistributors,
    knownDistributors: all.length,
  };
}

export type SettleBounds = {
  /** The wait's ceiling (epoch ms). */
  until: number;
  /**
   * While no distributor has ever been known here, the wait ends at this time (epoch ms): one
   * starting with the coordinator has had that long to register. Once distributors are known
   * but none is alive, it ends at once: there is nobody whose workers could report.
   */
  noDistributorUntil: number;
};

/**
 * The cluster's task types once every live distributor's workers have reported them (`want`), or as they
 * stand at `until` (epoch ms), when no distributor is there to wait for (see SettleBounds), or
 * when `signal` aborts. Right after a start the coordinator has heard from no worker yet; judging
 * a task type then would refuse work the cluster runs a second later, or accept work it will
 * never run.
 */
export async function settledTaskTypes(
  coordinator: CoordinatorAgent,
  bounds: SettleBounds,
  signal: AbortSignal,
  /** What ends the wait: `settled`, or `complete` (every live worker known has reported; see ClusterTaskTypes). */
  want: "settled" | "complete" = "settled",
): Promise<ClusterTaskTypes> {
  for (;;) {
    const now = clusterTaskTypes(coordinator);
    const at = Date.now();
    if (now[want] || at >= bounds.until || signal.aborted) return now;
    if (now.liveDistributors === 0 && (now.knownDistributors > 0 || at >= bounds.noDistributorUntil)) {
      return now;
    }
    const next = Math.min(
      bounds.until,
      now.knownDistributors === 0 ? bounds.noDistributorUntil : bounds.until,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.min(SETTLE_POLL_MS, next - at)).unref());
  }
}
