import { CoordinatorAgent } from "../../agents/index.js";
import { redactUrl } from "../../core/store/index.js";
import { coordinatorHttp } from "../../server/coordinator-server.js";
import { openHistory } from "../history.js";
import { createLogger } from "../logging.js";
import type { ParsedOptions } from "../options.js";
import { requireSecret } from "../peer.js";
import { onShutdown } from "../shutdown.js";
import { storeConfig } from "../store-flags.js";
import { timingFrom } from "../timing-flags.js";

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
  const http = coordinatorHttp(agent, { apiToken: process.env.TRIAD_API_TOKEN, host: String(options.host) });
  agent.a2a.serveOtherRoutes((req, res) => {
    http.handle(req, res).catch(() => res.destroy());
  });
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
