import type { Task } from "../../src/index.js";
import type { TestCluster } from "./cluster.js";

/**
 * A test's cluster (from clusterPerTest, with `options`) whose `held` handler holds every attempt
 * until open(): the set-up of tests of what a distributor does with attempts in flight (a
 * graceful stop, a move back onto it). `runs` counts each task's attempts, `ranOn` has the
 * worker of its last.
 */
export function heldUntilOpen(
  cluster: (options?: TestCluster["options"]) => TestCluster,
  options: Omit<TestCluster["options"], "handlers"> = {},
): { c: TestCluster; runs: Map<string, number>; ranOn: Map<string, string>; open: () => void } {
  let open = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const runs = new Map<string, number>();
  const ranOn = new Map<string, string>();
  const c = cluster({
    ...options,
    handlers: {
      held: async (task: Task) => {
        runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
        ranOn.set(task.taskId, task.assignedTo ?? "?");
        await gate;
        return { ok: true };
      },
    },
  });
  return { c, runs, ranOn, open };
}
