import type { Task } from "../../src/index.js";
import { FAST, type TestCluster } from "./cluster.js";

/**
 * A test's cluster (from clusterPerTest) whose `held` handler never ends the first attempt it
 * runs, until release(), and ends every later one at once: the set-up of a task whose worker or
 * distributor dies under its attempt. `ranOn` has each attempt's worker, in order.
 */
export function heldFirstAttempt(cluster: (options?: TestCluster["options"]) => TestCluster): {
  c: TestCluster;
  ranOn: string[];
  release: () => void;
} {
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const ranOn: string[] = [];
  const c = cluster({
    timing: FAST,
    handlers: {
      held: async (task: Task) => {
        ranOn.push(task.assignedTo ?? "?");
        if (ranOn.length === 1) await gate; // the first attempt never ends
        return { ok: true };
      },
    },
  });
  return { c, ranOn, release };
}
