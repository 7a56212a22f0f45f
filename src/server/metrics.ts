import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CoordinatorAgent } from "../agents/index.js";
import { OTHER_TYPE } from "../agents/observe/coordinator-observer.js";
import { agentList } from "./coordinator-api.js";
import { registerLimitMetrics } from "./limit-metrics.js";
import { registerProcessMetrics } from "./process-metrics.js";

/** A coordinator's metrics registry; `close()` unsubscribes it from the coordinator's activity. */
export type CoordinatorMetrics = Registry & { close(): void };

type Labels = Record<string, string>;
type Add = (labels: Labels, value: number) => void;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ATTEMPT_BUCKETS = [1, 2, 3, 4, 5, 10];

/**
 * Prometheus metrics of a coordinator and of what its distributors report on their heartbeats,
 * every name `triad_`-prefixed. Counters are read from the agents' own counts at scrape time, so
 * nothing is counted twice or missed; the two histograms observe tasks as they finish from the
 * moment this registry is made (make it when the coordinator starts). Label `agent` names the
 * agent that counted: the coordinator, or the distributor that reported it. `close()` stops the
 * histograms' observing (the registry still answers, with what they saw): a registry left open
 * keeps a listener on the coordinator's activity for as long as the coordinator lives.
 */
export function coordinatorMetrics(coordinator: CoordinatorAgent): CoordinatorMetrics {
  const registry = new Registry();
  const observer = coordinator.observer;
  const me = coordinator.agentId;
  const reports = () =>
    [...observer.heard()].flatMap(([agent, heard]) =>
      heard.report ? [{ agent, report: heard.report }] : [],
    );

  const counter = (name: string, help: string, labelNames: string[], read: (add: Add) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read((labels, value) => this.inc(labels, value));
      },
    });

  counter(
    "triad_tasks_total",
    "Tasks accepted (status=submitted) and tasks that reached each terminal status, by task type",
    ["status", "task_type"],
    (add) => {
      for (const [task_type, c] of observer.counts) {
        for (const status of ["submitted", "completed", "failed", "abandoned"] as const)
          add({ status, task_type }, c[status]);
      }
    },
  );
  counter("triad_tasks_retried_total", "Failed attempts put back for another try", ["agent"], (add) => {
    for (const { agent, report } of reports()) add({ agent }, report.retried);
  });
  counter(
    "triad_tasks_reassigned_total",
    "Tasks taken off an agent declared dead (or silent) to run elsewhere, by the agent that moved them",
    ["agent"],
    (add) => {
      add({ agent: me }, coordinator.core.stats.reassigned);
      for (const { agent, report } of reports()) add({ agent }, report.reassigned);
    },
  );
  counter(
    "triad_stale_results_total",
    "Results refused by their fencing token (an attempt that had been taken back)",
    ["agent"],
    (add) => {
      for (const { agent, report } of reports()) add({ agent }, report.stale_rejected);
    },
  );
  counter(
    "triad_agents_dead_total",
    "Agents declared dead after missing their heartbeats, by tier, counted by `agent`",
    ["tier", "agent"],
    (add) => {
      add({ tier: "distributor", agent: me }, coordinator.core.stats.distributorsDead);
      for (const { agent, report } of reports()) add({ tier: "worker", agent }, report.workers_dead);
    },
  );
  counter(
    "triad_heartbeats_total",
    "Heartbeats received, by the tier of the sender, counted by the receiving `agent`",
    ["tier", "agent"],
    (add) => {
      add({ tier: "distributor", agent: me }, observer.heartbeats);
      for (const { agent, report } of reports()) add({ tier: "worker", agent }, report.worker_heartbeats);
    },
  );
  counter(
    "triad_messages_rejected_total",
    "A2A messages refused by reason: before any handler saw them, or (unauthorized) admitted and then refused as not its sender's to say",
    ["reason", "agent"],
    (add) => {
      for (const [reason, n] of Object.entries(coordinator.a2a.stats().rejected))
        add({ reason, agent: me }, n);
      for (const { agent, report } of reports()) {
        for (const [reason, n] of Object.entries(report.rejected)) add({ reason, agent }, n);
        for (const [worker, counts] of Object.entries(report.worker_rejected ?? {})) {
          for (const [reason, n] of Object.entries(counts)) add({ reason, agent: worker }, n);
        }
      }
    },
  );
  counter(
    "triad_a2a_messages_sent_total",
    "A2A messages this coordinator sent to other processes, by transport: one message stream per peer, or a POST per batch",
    ["transport", "agent"],
    (add) => {
      const { messagesStreamed, messagesPosted } = coordinator.a2a.stats().http;
      add({ transport: "stream", agent: me }, messagesStreamed);
      add({ transport: "post", agent: me }, messagesPosted);
    },
  );
  counter(
    "triad_redis_calls_total",
    "Store calls by command (EVALSHA with its script); node-redis pipelines a tick's calls, so network round trips <= calls",
    ["command", "script", "agent"],
    (add) => {
      const addCalls = (agent: string, calls: Iterable<[string, number]>) => {
        for (const [key, n] of calls) {
          const [command, script = ""] = key.split(":");
          add({ command: command!, script, agent }, n);
        }
      };
      addCalls(me, observer.storeCalls);
      for (const { agent, report } of reports()) addCalls(agent, Object.entries(report.store_calls));
    },
  );

  const latency = new Histogram({
    name: "triad_task_latency_seconds",
    help: "Submit to terminal, per task, on the coordinator's monotonic clock",
    labelNames: ["task_type", "status"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const attempts = new Histogram({
    name: "triad_task_attempts",
    help: "Attempts a task took, counted when it reached a terminal status",
    labelNames: ["task_type", "status"],
    buckets: ATTEMPT_BUCKETS,
    registers: [registry],
  });
  const unobserve = observer.on((a) => {
    if (a.type !== "terminal") return;
    const labels = {
      task_type: observer.counts.has(a.task.task_type) ? a.task.task_type : OTHER_TYPE,
      status: a.task.status,
    };
    if (a.latency_ms !== null) latency.observe(labels, a.latency_ms / 1000);
    attempts.observe(labels, a.task.attempts);
  });

  const gauge = (name: string, help: string, labelNames: string[], read: (set: Add) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read((labels, value) => this.inc(labels, value));
      },
    });
  gauge(
    "triad_agents",
    "Agents known to the coordinator, by tier and status (GET /agents's; `stopped`: dead after a graceful stop, `dead`: crashed, `unknown`: a worker whose distributor crashed)",
    ["tier", "status"],
    (add) => {
      for (const a of agentList(coordinator))
        add({ tier: String(a.tier), status: a.stopped === true ? "stopped" : String(a.status) }, 1);
    },
  );
  gauge("triad_tasks_unplaced", "Accepted tasks waiting for a healthy distributor", [], (add) =>
    add({}, coordinator.core.unplacedCount),
  );
  gauge(
    "triad_shards_owned",
    "Task shards this coordinator owns (several coordinators split the 16 through leases)",
    [],
    (add) => add({}, coordinator.cluster.leases.owned().length),
  );
  gauge(
    "triad_tasks_input_required",
    "Tasks waiting for a person's input (input_required) in the whole store, as last counted (about once a second)",
    [],
    (add) => add({}, coordinator.core.input.waiting),
  );
  gauge(
    "triad_tasks_delayed",
    "Tasks waiting for their run_at (delay_ms / run_at) in the whole store, as last counted (about once a second)",
    [],
    (add) => add({}, coordinator.core.schedule.delayed),
  );
  counter("triad_inputs_given_total", "Inputs given to waiting tasks through this coordinator", [], (add) =>
    add({}, coordinator.core.input.given),
  );
  gauge(
    "triad_tasks_held",
    "Tasks a live distributor holds (queued or running on its workers), as it last reported",
    ["agent"],
    (add) => {
      for (const d of coordinator.core.directory.all()) if (d.status !== "dead") add({ agent: d.id }, d.load);
    },
  );
  registerLimitMetrics(registry, () => coordinator.listLimits());
  registerProcessMetrics(registry);
  return Object.assign(registry, { close: () => void unobserve() });
}
