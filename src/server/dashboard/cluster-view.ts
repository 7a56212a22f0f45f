import type { CoordinatorAgent } from "../../agents/index.js";
import type { JsonObject } from "../../core/json.js";
import { agentList } from "../coordinator-api.js";

/** The task counts the dashboard shows, since this coordinator started. */
export type TaskCounts = {
  submitted: number;
  /** Accepted, waiting for a healthy distributor. */
  waiting: number;
  /** Held by live distributors: queued there or running on their workers. */
  in_flight: number;
  completed: number;
  failed: number;
  abandoned: number;
  /** Failed attempts put back for another try (distributors' reports). */
  retried: number;
  /** Tasks moved off dead distributors and dead workers. */
  reassigned: number;
  /** Waiting for a person's input (input_required), in the whole store. */
  input_required: number;
};

export function taskCounts(coordinator: CoordinatorAgent): TaskCounts {
  const s = coordinator.core.stats;
  let inFlight = 0;
  for (const d of coordinator.core.directory.all()) if (d.status !== "dead") inFlight += d.load;
  let retried = 0;
  let reassigned = s.reassigned;
  for (const heard of coordinator.observer.heard().values()) {
    retried += heard.report?.retried ?? 0;
    reassigned += heard.report?.reassigned ?? 0;
  }
  return {
    submitted: s.submitted,
    waiting: coordinator.core.unplacedCount,
    in_flight: inFlight,
    completed: s.completed,
    failed: s.failed,
    abandoned: s.abandoned,
    retried,
    reassigned,
    input_required: coordinator.core.input.waiting,
  };
}

/**
 * Every agent of every tier (as GET /agents lists them) with the age of its last heartbeat,
 * measured without comparing clocks of two hosts: a distributor's on this coordinator's
 * monotonic clock; a worker's as the distributor saw it (both times on its clock) plus the age
 * of that distributor's report here.
 */
export function agentsView(coordinator: CoordinatorAgent): JsonObject[] {
  const now = performance.now();
  const heard = coordinator.observer.heard();
  return agentList(coordinator).map((agent) => {
    let age: number | null = null;
    if (agent.tier === "coordinator") age = 0;
    else if (agent.tier === "distributor") {
      const entry = coordinator.core.directory.get(String(agent.id));
      if (entry?.lastHeartbeatAt) age = now - entry.lastSeen;
    } else {
      const report = heard.get(String(agent.parent));
      const last = typeof agent.last_heartbeat === "string" ? Date.parse(agent.last_heartbeat) : Number.NaN;
      if (report && Number.isFinite(last) && Number.isFinite(report.sentAt)) {
        age = Math.max(0, report.sentAt - last) + (now - report.receivedAt);
      }
    }
    return { ...agent, heartbeat_age_ms: age === null ? null : Math.round(age) };
  });
}
