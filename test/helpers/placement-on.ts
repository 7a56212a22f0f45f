import { SOLE } from "../../src/agents/coordinator/cluster-seam.js";
import { DistributorDirectory } from "../../src/agents/coordinator/distributor-directory.js";
import { Placement } from "../../src/agents/coordinator/placement.js";
import type { TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import type { AgentPayload } from "../../src/agents/protocol.js";
import { DEFAULT_TIMING } from "../../src/agents/timing.js";
import { workerSummary } from "./worker-summary.js";

/** `directory` hears from distributor `id`: idle, `load` of capacity 4 taken, one worker of type echo. */
export function beat(directory: DistributorDirectory, id: string, load = 0): void {
  directory.heartbeat(id, {
    kind: "distributor_status",
    url: null,
    status: "idle",
    load,
    capacity: 4,
    owns_lease: true,
    done: 0,
    workers: [workerSummary(`${id}-w`, ["echo"])],
  } as never);
}

/**
 * A Placement on `ledger` as a sole coordinator's (no linger, nothing held back) and the
 * directory it chooses from, which has heard from each of `live` (idle). Every task it sends in
 * an assignment is recorded in `sent`, in order, with the distributor it went to; it sends
 * nothing else anywhere. The caller closes the placement.
 */
export function placementOn(ledger: TaskLedger, live: string[]) {
  const directory = new DistributorDirectory();
  for (const id of live) beat(directory, id);
  const sent: Array<{ to: string; id: string }> = [];
  const placement = new Placement({
    ledger,
    directory,
    cluster: SOLE,
    timing: { ...DEFAULT_TIMING, batchLingerMs: 0 },
    placementTimeoutMs: 60_000,
    send: async (to: string, payload: AgentPayload) => {
      if (payload.kind === "assign_tasks") for (const t of payload.tasks) sent.push({ to, id: t.task_id });
    },
    holdsBack: () => false,
    lone: () => true,
    sent: () => {},
    unsendable: () => {},
  });
  return { placement, directory, sent };
}
