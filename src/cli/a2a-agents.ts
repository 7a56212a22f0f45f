import type { TaskHandler, WorkerAgent } from "../agents/index.js";
import { A2AAgentBridge } from "../agents/worker/remote/index.js";
import type { Logger } from "../core/logger.js";
import type { Task } from "../core/state/index.js";

/**
 * `triad worker --a2a-agent URL…`: the agents' skills become the worker's task types. Waits a
 * few seconds for the cards (so the ready line names the skills); a card still unread is read
 * again in the background, and its skills are registered when it is — the worker does not exit.
 */
export async function bridgeA2AAgents(
  worker: WorkerAgent,
  urls: string,
  concurrency: number,
  reconnectWindowMs: number,
  log: Logger,
): Promise<A2AAgentBridge> {
  const bridge = new A2AAgentBridge(urls.split(/\s+/).filter(Boolean), {
    concurrency,
    reconnectWindowMs,
    logger: log,
    register: (taskType, handler) => {
      worker.registerTaskHandler(taskType, handler as TaskHandler<Task>);
      log.info({ task_type: taskType }, "task type bridged to an A2A agent");
    },
  });
  await bridge.start();
  return bridge;
}
