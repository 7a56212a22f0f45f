import type { CoordinatorAgent } from "../../agents/index.js";
import { clusterTaskTypes, settledTaskTypes } from "./cluster-task-types.js";

export type JudgeOptions = {
  /** Until then (epoch ms, the gateway's start-up), an unknown type waits for every live distributor's workers. */
  settleUntil: number;
  /** Until then (epoch ms), while no distributor has ever registered, one is waited for. */
  noDistributorUntil: number;
  signal: AbortSignal;
};

/**
 * Whether a message's task type can be taken on: null when it can, else why not (the task is
 * REJECTED with it). A type some live worker has reported is taken at once. Any other is judged
 * once what is coming has come:
 *
 * - in the gateway's start-up (`settleUntil`), once every live distributor's workers have
 *   reported (settledTaskTypes; with no distributor alive, or none registered within
 *   `noDistributorUntil`, at once);
 * - later, while a live worker has registered but not yet said what it runs (a worker joining
 *   with a new type: its distributor lists it a heartbeat before its types), until it has, for
 *   at most a heartbeat timeout and interval (by then it has reported, or is declared dead).
 *
 * Then a type no worker has reported is refused only when every live worker has said what it
 * runs: while none has (no worker yet), or one still has not, it is taken on, and waits for
 * placement as a task submitted over REST does.
 */
export async function judgeTaskType(
  coordinator: CoordinatorAgent,
  taskType: string,
  o: JudgeOptions,
): Promise<string | null> {
  let now = clusterTaskTypes(coordinator);
  if (now.types.includes(taskType)) return null;
  const at = Date.now();
  if (at < o.settleUntil) {
    now = await settledTaskTypes(
      coordinator,
      { until: o.settleUntil, noDistributorUntil: o.noDistributorUntil },
      o.signal,
    );
  } else if (now.unreported > 0) {
    const { heartbeatTimeoutMs, heartbeatIntervalMs } = coordinator.timing;
    // settled may never come (a live distributor without workers): the wait ends once complete.
    now = await settledTaskTypes(
      coordinator,
      { until: at + heartbeatTimeoutMs + heartbeatIntervalMs, noDistributorUntil: 0 },
      o.signal,
      "complete",
    );
  }
  if (now.types.includes(taskType) || !now.complete) return null;
  return (
    `unknown task type ${JSON.stringify(taskType)}: no live worker runs it ` +
    `(this cluster runs ${now.types.join(", ") || "nothing yet"})`
  );
}
