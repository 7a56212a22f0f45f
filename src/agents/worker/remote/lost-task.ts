import { TaskNotFoundError } from "@a2a-js/sdk/errors";
import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../../core/errors.js";
import { recordRemoteTask } from "./remote-task-record.js";

/**
 * How often one attempt sends the work again after the agent lost its remote task. Each time is
 * the agent's loss, not the task's failure (as a dead worker's attempt is taken back without
 * spending a retry); the bound keeps an agent that forgets every task from being fed forever
 * inside one attempt (its deadline bounds it too). Past it, the attempt fails as any other.
 */
export const MAX_RESENDS_PER_ATTEMPT = 3;

/**
 * The agent answers TaskNotFound for a remote task this attempt was following: it forgot the
 * task (it restarted without its task store, or dropped it). The work there is gone; nothing
 * was said of it failing.
 */
export function lostTaskError(agent: string, url: string, remoteTask: string): TriadError {
  const who = agent ? `the A2A agent "${agent}" at ${url}` : `the A2A agent at ${url}`;
  return new TriadError(
    "ERR_REMOTE_TASK_LOST",
    `${who} no longer knows remote task ${remoteTask} (did it restart without its tasks?)`,
    { agent_url: url, remote_task: remoteTask },
  );
}

export function isLostTask(err: unknown): err is TriadError {
  return err instanceof TriadError && err.code === "ERR_REMOTE_TASK_LOST";
}

/** A call about remote task `remoteTask` that the agent answers TaskNotFound: the task is lost there. */
export function notFoundAsLost(agent: string, url: string, remoteTask: string): (err: unknown) => never {
  return (err) => {
    throw err instanceof TaskNotFoundError ? lostTaskError(agent, url, remoteTask) : err;
  };
}

/** A catch for following a remote task: lost there is undefined (the work is sent anew); the rest is thrown. */
export function undefinedWhenLost(err: unknown): undefined {
  if (isLostTask(err)) return undefined;
  throw err;
}

/**
 * Whether the attempt still owns its task: the lost remote task is recorded again through the
 * attempt's relay, whose put the distributor stores only under the attempt's fence.
 */
export async function stillOwned(
  saver: BaseCheckpointSaver,
  taskId: string,
  url: string,
  lost: TriadError,
): Promise<boolean> {
  const remoteTaskId = String(lost.details?.remote_task ?? "");
  try {
    await recordRemoteTask(saver, taskId, { agent_url: url, remote_task_id: remoteTaskId, context_id: "" });
    return true;
  } catch {
    return false;
  }
}
