import { CoordinatorAgent } from "../../agents/index.js";
import { redactUrl } from "../../core/store/index.js";
import { coordinatorHttp } from "../../server/coordinator-server.js";
import { historyFlag, openHistory } from "../history.js";
import { createLogger } from "../logging.js";
import type { CommandSpec, ParsedOptions } from "../options.js";
import { requireSecret } from "../peer.js";
import { onShutdown } from "../shutdown.js";
import { busyPollFlag, storeConfig } from "../store-flags.js";
import { timingFlags, timingFrom } from "../timing-flags.js";

export const coordinatorSpec: CommandSpec = {
  name: "coordinator",
  summary: "Run a coordinator: A2A, the REST API, metrics and the dashboard on one port.",
  usage: "triad coordinator --id ID --redis URL --port P [--host H]",
  flags: [
    { name: "id", type: "string", description: "agent id", required: true },
    {
      name: "redis",
      type: "string",
      description:
        "store URL: redis://host:port, rediss:// for TLS, or redis+cluster://host:port,host:port for Redis Cluster",
      required: true,
    },
    { name: "port", type: "number", description: "port for A2A and the HTTP API", required: true },
    {
      name: "host",
      type: "string",
      description: "address to bind (0.0.0.0 for other hosts)",
      default: "127.0.0.1",
    },
    {
      name: "placement-timeout",
      type: "number",
      description: "ms a task may wait for a healthy distributor before it is abandoned",
      default: 30_000,
    },
    { name: "max-retries", type: "number", description: "retries of a failed task", default: 2 },
    {
      name: "retry-backoff",
      type: "number",
      description: "ms before the first retry (doubles each time)",
      default: 200,
    },
    {
      name: "shutdown-timeout",
      type: "number",
      description: "ms to finish in-flight work on SIGTERM/SIGINT",
      default: 10_000,
    },
    ...timingFlags("heartbeat-interval", "heartbeat-timeout", "monitor-interval"),
    busyPollFlag,
    historyFlag,
  ],
  notes:
    "Environment: TRIAD_SECRET (required; the A2A signing secret shared by all processes), TRIAD_API_TOKEN (bearer token for the HTTP API).",
};

export async function coordinator(options: ParsedOptions): Promise<number> {
  const secret = requireSecret();
  const id = String(options.id);
  const log = createLogger(String(options["log-level"]), "triad");
  const history = openHistory(options.history, id);
  const agent = new CoordinatorAgent({
    agentId: id,
    redis: storeConfig(options, { url: String(options.redis) }),
    a2a: { tokenSecret: secret, agentPort: Number(options.port), host: String(options.host), router: null },
    placementTimeoutMs: Number(options["placement-timeout"]),
    retry: {
      default: { maxRetries: Number(options["max-retries"]), backoffMs: Number(options["retry-backoff"]) },
    },
    timing: timingFrom(options),
    logger: log,
    ...(history && {
      ledger: { observer: (event) => history.record(event) },
      events: { distributorDead: (target, tasks) => history.record({ op: "dead", target, tasks }) },
    }),
  });
  const counters = () => ({ coordinator: { ...agent.core.stats } });
  history?.watch(agent.a2a, counters, agent.timing.heartbeatIntervalMs);
  const http = coordinatorHttp(agent, { apiToken: process.env.TRIAD_API_TOKEN });
  agent.a2a.serveOtherRoutes((req, res) => void http.handle(req, res));
  await agent.initialize();
  log.info({ url: agent.url, redis: redactUrl(String(options.redis)) }, "coordinator ready");
  process.stdout.write(`ready coordinator ${id} ${agent.url}\n`);
  return onShutdown(
    async () => {
      http.stopAccepting();
      await agent.cleanup();
      history?.close(agent.a2a, counters);
    },
    Number(options["shutdown-timeout"]),
    (m) => log.info(m),
  );
}
