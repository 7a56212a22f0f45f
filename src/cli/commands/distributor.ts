import { DistributorAgent } from "../../agents/index.js";
import { historyFlag, openHistory } from "../history.js";
import { createLogger } from "../logging.js";
import type { CommandSpec, ParsedOptions } from "../options.js";
import { discoverAgentId, requireSecret } from "../peer.js";
import { runAgentProcess } from "../shutdown.js";
import { busyPollFlag, storeConfig } from "../store-flags.js";
import { timingFlags, timingFrom } from "../timing-flags.js";

export const distributorSpec: CommandSpec = {
  name: "distributor",
  summary: "Run a distributor: takes tasks from the coordinator and runs them on its workers.",
  usage: "triad distributor --id ID --coordinator URL --redis URL --port P [--host H]",
  flags: [
    {
      name: "id",
      type: "string",
      description: "agent id (a restart with the same id picks up its tasks)",
      required: true,
    },
    {
      name: "coordinator",
      type: "string",
      description: "the coordinator's URL, e.g. http://127.0.0.1:7400",
      required: true,
    },
    {
      name: "redis",
      type: "string",
      description:
        "store URL: redis://host:port, rediss:// for TLS, or redis+cluster://host:port,host:port for Redis Cluster",
      required: true,
    },
    { name: "port", type: "number", description: "port for A2A", required: true },
    {
      name: "host",
      type: "string",
      description: "address to bind (0.0.0.0 for other hosts)",
      default: "127.0.0.1",
    },
    {
      name: "advertise-url",
      type: "string",
      description: "URL workers and the coordinator are told to reach this distributor at (default its own)",
    },
    {
      name: "task-timeout",
      type: "number",
      description: "ms a worker gives one attempt of a task",
      default: 30_000,
    },
    {
      name: "shutdown-timeout",
      type: "number",
      description: "ms to finish in-flight work on SIGTERM/SIGINT",
      default: 10_000,
    },
    ...timingFlags("heartbeat-interval", "heartbeat-timeout", "monitor-interval", "lease-ttl"),
    busyPollFlag,
    historyFlag,
  ],
  notes: "Environment: TRIAD_SECRET (required; the A2A signing secret shared by all processes).",
};

export async function distributor(options: ParsedOptions): Promise<number> {
  const secret = requireSecret();
  const id = String(options.id);
  const log = createLogger(String(options["log-level"]), "triad");
  const coordinatorUrl = String(options.coordinator);
  const coordinatorId = await discoverAgentId(coordinatorUrl, log);
  const history = openHistory(options.history, id);
  const agent = new DistributorAgent({
    agentId: id,
    coordinatorId,
    coordinatorUrl,
    redis: storeConfig(options, { url: String(options.redis) }),
    a2a: {
      tokenSecret: secret,
      agentPort: Number(options.port),
      host: String(options.host),
      router: null,
      ...(options["advertise-url"] ? { advertiseUrl: String(options["advertise-url"]) } : {}),
    },
    taskTimeoutMs: Number(options["task-timeout"]),
    timing: timingFrom(options),
    logger: log,
    ...(history && {
      ledger: { observer: (event) => history.record(event) },
      events: { workerDead: (target, tasks) => history.record({ op: "dead", target, tasks }) },
    }),
  });
  return runAgentProcess({
    tier: "distributor",
    id,
    agent,
    log,
    ready: { coordinator: coordinatorId },
    graceMs: Number(options["shutdown-timeout"]),
    history,
    counters: () => ({ distributor: { ...agent.core.stats } }),
    heartbeatMs: Number(options["heartbeat-interval"] ?? 1000),
  });
}
