// Its own module, not the agents' index: a distributor loads no coordinator or worker.
import { DistributorAgent } from "../../agents/distributor/distributor-agent.js";
import { tierA2A } from "../a2a-flags.js";
import { closingWith, tierSigning } from "../agent-keys.js";
import { openHistory } from "../history.js";
import { createLogger, logFatalErrors } from "../logging.js";
import type { ParsedOptions } from "../options.js";
import { addWhenTheyAnswer, discoverCoordinators } from "../peer.js";
import { runAgentProcess } from "../shutdown.js";
import { sharedStoreConfig } from "../store-flags.js";
import { timingFrom } from "../timing-flags.js";
import { healthRoute, joinHealth, whileWaitingForUpstream } from "../upstream-wait.js";

export async function distributor(options: ParsedOptions): Promise<number> {
  const id = String(options.id);
  const log = await createLogger(options, "triad");
  logFatalErrors(log);
  const timing = timingFrom(options); // refused now, not after the peer it waits for is up
  const redis = sharedStoreConfig(options);
  const { close: closeKeys, ...signing } = await tierSigning(id, redis, log);
  // Several coordinators of one store, in the order of preference: it reports to the first of
  // the list that answers, and moves to the next (round the list) when that one stops answering.
  const urls = String(options.coordinator)
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  // Its port opens now, GET /health saying it waits, however long the coordinator takes to answer.
  const upstream = { tier: "distributor", id, host: String(options.host), port: Number(options.port), log };
  const { first, rest } = await whileWaitingForUpstream({ ...upstream, upstream: urls.join(",") }, () =>
    discoverCoordinators(urls, log),
  ).catch(async (err: unknown) => {
    await closeKeys();
    throw err;
  });
  const coordinatorId = first.id;
  const coordinatorUrl = first.url;
  const history = openHistory(options.history, id);
  const agent = new DistributorAgent({
    agentId: id,
    coordinatorId,
    coordinatorUrl,
    coordinators: rest.ready,
    redis,
    a2a: tierA2A(options, signing),
    taskTimeoutMs: Number(options["task-timeout"]),
    timing,
    logger: log,
    ...(history && {
      ledger: { observer: (event) => history.record(event) },
      events: { workerDead: (target, tasks) => history.record({ op: "dead", target, tasks }) },
      // The chaos scenarios wait on it: every distributor knows a limit just set.
      limits: { limitedTypesChanged: (types) => history.record({ op: "limits", types }) },
    }),
  });
  agent.a2a.serveOtherRoutes(
    healthRoute(() => joinHealth("distributor", id, urls.join(","), agent.join, agent.standby.standby)),
  );
  // A second process under a live one's id waits for its lease: it says so, and `ready` only
  // once it has taken the lease (and its coordinator has taken it in).
  void agent.standby.whenStandby.then(() => {
    process.stdout.write(`standby distributor ${id} ${agent.a2a.url}\n`);
  });
  // Each joins the failover list once it answers, however late (a failure is logged, not fatal).
  void addWhenTheyAnswer(rest.later, (c) => agent.addCoordinator(c), log);
  return runAgentProcess({
    tier: "distributor",
    id,
    agent: closingWith(agent, closeKeys),
    joined: async () => {
      await agent.standby.whenOwned;
      await agent.join.whenJoined();
    },
    log,
    ready: { coordinator: coordinatorId },
    graceMs: Number(options["shutdown-timeout"]),
    history,
    counters: () => ({ distributor: { ...agent.core.stats } }),
    heartbeatMs: Number(options["heartbeat-interval"] ?? 1000),
  });
}
