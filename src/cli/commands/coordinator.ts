// Its own module, not the agents' index: a coordinator loads no distributor or worker.
import { CoordinatorAgent } from "../../agents/coordinator/coordinator-agent.js";
import { redactUrl } from "../../core/store/index.js";
import { coordinatorHttp } from "../../server/coordinator-server.js";
import { tierA2A } from "../a2a-flags.js";
import { tierSigning } from "../agent-keys.js";
import { openHistory } from "../history.js";
import { limitsFrom } from "../limit-flags.js";
import { createLogger, logFatalErrors } from "../logging.js";
import { type ParsedOptions, taskTypeOption } from "../options.js";
import { startThenServe } from "../shutdown.js";
import { sharedStoreConfig } from "../store-flags.js";
import { timingFrom } from "../timing-flags.js";

export async function coordinator(options: ParsedOptions): Promise<number> {
  const id = String(options.id);
  // An empty flag is unset, as before; a blank or control-character type is refused before anything starts.
  const a2aTextType = options["a2a-text-type"] ? taskTypeOption(options, "a2a-text-type") : undefined;
  const limits = limitsFrom(options);
  const log = await createLogger(options, "triad");
  logFatalErrors(log);
  const redis = sharedStoreConfig(options);
  const { close: closeKeys, ...signing } = await tierSigning(id, redis, log);
  const history = openHistory(options.history, id);
  const agent = new CoordinatorAgent({
    agentId: id,
    redis,
    a2a: tierA2A(options, signing),
    placementTimeoutMs: Number(options["placement-timeout"]),
    retry: {
      default: { maxRetries: Number(options["max-retries"]), backoffMs: Number(options["retry-backoff"]) },
    },
    timing: timingFrom(options),
    logger: log,
    limits: { maxLimits: Number(options["max-limits"]), ...(limits && { initial: limits }) },
    schedules: { maxSchedules: Number(options["max-schedules"]) },
    ...(history && {
      ledger: { observer: (event) => history.record(event) },
      events: { distributorDead: (target, tasks) => history.record({ op: "dead", target, tasks }) },
    }),
  });
  const counters = () => ({ coordinator: { ...agent.core.stats } });
  history?.watch(agent.a2a, counters, agent.timing.heartbeatIntervalMs);
  const http = coordinatorHttp(agent, {
    apiToken: process.env.TRIAD_API_TOKEN,
    host: String(options.host),
    a2aTextType,
    logger: log,
  });
  agent.a2a.serveOtherRoutes((req, res) => {
    http.handle(req, res).catch(() => res.destroy());
  });
  const release = async () => {
    http.stopAccepting();
    await agent.cleanup();
    await closeKeys();
    history?.close(agent.a2a, counters);
  };
  const run = startThenServe({
    what: "coordinator",
    start: () => agent.initialize(),
    release,
    stop: release,
    graceMs: Number(options["shutdown-timeout"]),
    log,
  });
  await run.started;
  // The REST API shares the A2A port: the other coordinators ask it for this one's recent tasks.
  agent.apiUrl = agent.url;
  if (!run.stopping()) {
    log.info({ url: agent.url, redis: redactUrl(String(options.redis)) }, "coordinator ready");
    process.stdout.write(`ready coordinator ${id} ${agent.url}\n`);
  }
  return run.stopped;
}
