import { Counter, Gauge, Registry } from "prom-client";
import type { CoordinatorAgent } from "../agents/index.js";

/**
 * Prometheus metrics of a coordinator and what its distributors report. Counters are read
 * from the agents' own counts at scrape time, so nothing is counted twice or missed.
 */
export function coordinatorMetrics(coordinator: CoordinatorAgent): Registry {
  const registry = new Registry();
  const stats = () => coordinator.core.stats;
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  new Counter({
    name: "triad_tasks_total",
    help: "Tasks that reached each terminal status, and tasks accepted",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const s = stats();
      this.reset();
      this.inc({ status: "submitted" }, s.submitted);
      this.inc({ status: "completed" }, s.completed);
      this.inc({ status: "failed" }, s.failed);
      this.inc({ status: "abandoned" }, s.abandoned);
    },
  });
  counter(
    "triad_tasks_reassigned_total",
    "Tasks moved off a distributor declared dead",
    () => stats().reassigned,
  );
  counter("triad_distributors_dead_total", "Distributors declared dead", () => stats().distributorsDead);
  new Counter({
    name: "triad_messages_rejected_total",
    help: "A2A messages refused by the coordinator, by reason",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(coordinator.a2a.stats().rejected)) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: "triad_agents",
    help: "Agents known to the coordinator, by tier and status",
    labelNames: ["tier", "status"],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of coordinator.core.directory.all()) {
        this.inc({ tier: "distributor", status: d.status });
        for (const w of d.workers) this.inc({ tier: "worker", status: w.status });
      }
    },
  });
  new Gauge({
    name: "triad_tasks_unplaced",
    help: "Accepted tasks waiting for a healthy distributor",
    registers: [registry],
    collect() {
      this.set(coordinator.core.unplacedCount);
    },
  });
  return registry;
}
