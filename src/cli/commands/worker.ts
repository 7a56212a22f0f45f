// The worker agent's own modules, not the agents' index: a worker loads no coordinator or distributor.
import { builtinHandlers } from "../../agents/worker/handlers/index.js";
import type { TaskHandler } from "../../agents/worker/task-runner.js";
import { WorkerAgent } from "../../agents/worker/worker-agent.js";
import type { Task } from "../../core/state/index.js";
import { tierA2A } from "../a2a-flags.js";
import { closingWith, tierSigning } from "../agent-keys.js";
import { loadHandlers } from "../handlers-module.js";
import { type HistoryRecorder, openHistory } from "../history.js";
import { createLogger, logFatalErrors } from "../logging.js";
import { type ParsedOptions, positiveInt } from "../options.js";
import { discoverAgentId } from "../peer.js";
import { runAgentProcess } from "../shutdown.js";
import { timingFrom } from "../timing-flags.js";
import { healthRoute, joinHealth, whileWaitingForUpstream } from "../upstream-wait.js";

export async function worker(options: ParsedOptions): Promise<number> {
  const id = String(options.id);
  const log = await createLogger(options, "triad");
  logFatalErrors(log);
  const timing = timingFrom(options); // refused now, not after the peer it waits for is up
  const { close: closeKeys, ...signing } = await tierSigning(id, undefined, log);
  const history = openHistory(options.history, id);
  const loaded = options.handlers ? await loadHandlers(String(options.handlers)) : {};
  const handlers = history ? recordExecutions({ ...builtins(), ...loaded }, history) : loaded;
  const distributorUrl = String(options.distributor);
  // Its port opens now, GET /health saying it waits, however long the distributor takes to answer.
  const upstream = { tier: "worker", id, host: String(options.host), port: Number(options.port), log };
  const distributorId = await whileWaitingForUpstream({ ...upstream, upstream: distributorUrl }, () =>
    discoverAgentId(distributorUrl, log),
  );
  const agent = new WorkerAgent({
    agentId: id,
    distributorId,
    distributorUrl,
    a2a: tierA2A(options, signing),
    handlers,
    concurrency: positiveInt(options, "concurrency"),
    timing,
    logger: log,
  });
  agent.a2a.serveOtherRoutes(healthRoute(() => joinHealth("worker", id, distributorUrl, agent.join)));
  // Loaded only when asked for: a worker without --a2a-agent never loads the A2A client.
  if (options["a2a-agent"]) {
    const { bridgeA2AAgents } = await import("../a2a-agents.js");
    await bridgeA2AAgents(
      agent,
      String(options["a2a-agent"]),
      positiveInt(options, "a2a-concurrency"),
      Number(options["a2a-reconnect-window"]),
      log,
    );
  }
  return runAgentProcess({
    tier: "worker",
    id,
    agent: closingWith(agent, closeKeys),
    joined: () => agent.join.whenJoined(),
    log,
    ready: { distributor: distributorId, taskTypes: agent.taskTypes },
    graceMs: Number(options["shutdown-timeout"]),
    history,
    counters: () => ({ worker: { done: agent.core.done, unacked: agent.core.pendingResults } }),
    heartbeatMs: Number(options["heartbeat-interval"] ?? 1000),
  });
}

function builtins(): Record<string, TaskHandler<Task>> {
  return builtinHandlers() as Record<string, TaskHandler<Task>>;
}

/**
 * The handlers, each recording an "executed" line when it returns or throws (execution is
 * at-least-once: the history shows how often each task really ran). Graphs run as they are.
 */
function recordExecutions(
  handlers: Record<string, TaskHandler<Task>>,
  history: HistoryRecorder,
): Record<string, TaskHandler<Task>> {
  const out: Record<string, TaskHandler<Task>> = {};
  for (const [type, handler] of Object.entries(handlers)) {
    if (typeof handler !== "function") {
      out[type] = handler;
      continue;
    }
    out[type] = async (task, context) => {
      const at = { task_id: task.taskId, attempt: context.attempt };
      try {
        const result = await handler(task, context);
        history.record({ op: "executed", ...at, outcome: "returned" });
        return result;
      } catch (err) {
        history.record({ op: "executed", ...at, outcome: "threw" });
        throw err;
      }
    };
  }
  return out;
}
