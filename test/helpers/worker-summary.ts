import type { WorkerSummary } from "../../src/agents/protocol.js";

/** A worker's summary in a distributor's heartbeat, running `types` (none: not said yet). */
export function workerSummary(id: string, types: string[], status: "idle" | "dead" = "idle"): WorkerSummary {
  return {
    id,
    status,
    load: 0,
    capacity: 10,
    last_heartbeat: null,
    done: 0,
    task_types: types,
    remote_agents: [],
  };
}
