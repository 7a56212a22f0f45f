import type { CoordinatorAgent } from "../../agents/index.js";
import type { JsonObject } from "../../core/json.js";
import { agentList } from "../coordinator-api.js";

/**
 * The task counts the dashboard shows: of the whole cluster, each coordinator counting what it
 * accepted and heard end (their own counters: the sum counts nothing twice), kept in the store
 * (CoordinatorCounts), so a coordinator that died, stopped or restarted leaves its counts in:
 * they never go down while the store keeps its data.
 */
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

/** A peer's counter, or 0 when its view lacks it (an older release) or holds no count. */
const counter = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;

export function taskCounts(coordinator: CoordinatorAgent): TaskCounts {
  const s = coordinator.cluster.counts.totals();
  const counts: TaskCounts = {
    submitted: counter(s.submitted),
    waiting: coordinator.core.unplacedCount,
    in_flight: 0,
    completed: counter(s.completed),
    failed: counter(s.failed),
    abandoned: counter(s.abandoned),
    retried: 0,
    reassigned: counter(s.reassigned),
    input_required: coordinator.core.input.waiting,
  };
  for (const d of coordinator.core.directory.all()) if (d.status !== "dead") counts.in_flight += d.load;
  // A distributor's own counters, from its newest report wherever it was heard (it moves between
  // coordinators when one stops answering): [sent at on its clock, retried, reassigned].
  const reports = new Map<string, readonly [number, number, number]>(
    Object.entries(coordinator.observer.reportedCounts(Number.POSITIVE_INFINITY)),
  );
  for (const peer of coordinator.cluster.peers.others()) {
    counts.waiting += counter(peer.waiting);
    const reported = peer.reported;
    if (reported === null || typeof reported !== "object") continue;
    for (const [id, r] of Object.entries(reported)) {
      if (!Array.isArray(r) || r.length !== 3) continue;
      const sentAt = counter(r[0]);
      if ((reports.get(id)?.[0] ?? -1) >= sentAt) continue;
      reports.set(id, [sentAt, counter(r[1]), counter(r[2])]);
    }
  }
  for (const [, retried, reassigned] of reports.values()) {
    counts.retried += retried;
    counts.reassigned += reassigned;
  }
  return counts;
}

/**
 * Every agent of every tier (as GET /agents lists them) with the age of its last heartbeat,
 * from the same information GET /agents gives: this coordinator's directory, where what another
 * coordinator publishes about a distributor replaces what this one heard itself when it is newer
 * (a distributor moves between coordinators when one stops answering).
 *
 * A distributor's age is on this coordinator's monotonic clock (for one heard through another
 * coordinator, that one's age of it plus the age of its view here). A worker's is how old its
 * heartbeat was when its distributor's report left, plus the age of that report here: for a
 * report heard first-hand, both times on the distributor's clock (no clocks of two hosts
 * compared); for one heard through another coordinator, the distributor's time of the worker's
 * heartbeat against that coordinator's time of the report (two clocks: as far apart as they are,
 * which GET /agents's readers compare anyway). A first-hand report older than what the directory
 * holds (one from before the distributor moved) is not used.
 */
export function agentsView(coordinator: CoordinatorAgent): JsonObject[] {
  const now = performance.now();
  const heard = coordinator.observer.heard();
  const { directory } = coordinator.core;
  return agentList(coordinator).map((agent) => {
    let age: number | null = null;
    if (agent.tier === "coordinator") age = agent.status === "dead" ? null : 0;
    else if (agent.tier === "distributor") {
      const entry = directory.get(String(agent.id));
      if (entry?.lastHeartbeatAt) age = now - entry.lastSeen;
    } else {
      const entry = directory.get(String(agent.parent));
      const last = typeof agent.last_heartbeat === "string" ? Date.parse(agent.last_heartbeat) : Number.NaN;
      if (entry?.lastHeartbeatAt && Number.isFinite(last)) {
        // Heard first-hand last (a peer's newer word sets `via`): the observer holds that report.
        const report = entry.via === null ? heard.get(entry.id) : undefined;
        if (report && Number.isFinite(report.sentAt)) {
          age = Math.max(0, report.sentAt - last) + (now - report.receivedAt);
        } else {
          const reportedAt = Date.parse(entry.lastHeartbeatAt);
          if (Number.isFinite(reportedAt)) age = Math.max(0, reportedAt - last) + (now - entry.lastSeen);
        }
      }
    }
    return { ...agent, heartbeat_age_ms: age === null ? null : Math.round(age) };
  });
}
