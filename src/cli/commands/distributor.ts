import { DistributorAgent } from "../../agents/index.js";
import { closingWith, tierSigning } from "../agent-keys.js";
import { openHistory } from "../history.js";
import { createLogger } from "../logging.js";
import type { ParsedOptions } from "../options.js";
import { discoverAgentId } from "../peer.js";
import { runAgentProcess } from "../shutdown.js";
import { storeConfig } from "../store-flags.js";
import { timingFrom } from "../timing-flags.js";

export async function distributor(options: ParsedOptions): Promise<number> {
  const id = String(options.id);
  const log = await createLogger(options, "triad");
  const redis = storeConfig(options, { url: String(options.redis) });
  const { close: closeKeys, ...signing } = await tierSigning(id, redis, log);
  const coordinatorUrl = String(options.coordinator);
  const coordinatorId = await discoverAgentId(coordinatorUrl, log);
  const history = openHistory(options.history, id);
  const agent = new DistributorAgent({
    agentId: id,
    coordinatorId,
    coordinatorUrl,
    redis,
    a2a: {
      ...signing,
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
    agent: closingWith(agent, closeKeys),
    log,
    ready: { coordinator: coordinatorId },
    graceMs: Number(options["shutdown-timeout"]),
    history,
    counters: () => ({ distributor: { ...agent.core.stats } }),
    heartbeatMs: Number(options["heartbeat-interval"] ?? 1000),
  });
}
