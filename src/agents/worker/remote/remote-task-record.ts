import type { RunnableConfig } from "@langchain/core/runnables";
import { type BaseCheckpointSaver, emptyCheckpoint } from "@langchain/langgraph/web";

/**
 * The one thing a bridged attempt must not lose: which remote task holds its work. It is kept
 * as a checkpoint of the task's thread, in its own namespace, through the worker's relay
 * checkpointer: the put waits until the distributor has it, the distributor fences it with the
 * attempt's token, and hands it (with any graph checkpoints) to the next attempt of the task.
 */
export type RemoteTaskRecord = {
  /** The agent's URL as given (the card's URL), so a record is never used against another agent. */
  agent_url: string;
  remote_task_id: string;
  context_id: string;
};

/** Graph handlers checkpoint in the namespace ""; this one is the bridge's alone. */
export const REMOTE_TASK_NAMESPACE = "a2a-remote-task";

const CHANNEL = "remote_task";

function addressOf(threadId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, checkpoint_ns: REMOTE_TASK_NAMESPACE } };
}

/** The record an earlier attempt of this task left, if any reached the distributor. */
export async function readRemoteTask(
  saver: BaseCheckpointSaver,
  threadId: string,
): Promise<RemoteTaskRecord | undefined> {
  const tuple = await saver.getTuple(addressOf(threadId));
  const value = tuple?.checkpoint.channel_values?.[CHANNEL] as Partial<RemoteTaskRecord> | undefined;
  if (typeof value?.agent_url !== "string" || typeof value.remote_task_id !== "string") return undefined;
  return {
    agent_url: value.agent_url,
    remote_task_id: value.remote_task_id,
    context_id: value.context_id ?? "",
  };
}

/** Records the remote task; resolves once the distributor has stored it (the relay's put waits). */
export async function recordRemoteTask(
  saver: BaseCheckpointSaver,
  threadId: string,
  record: RemoteTaskRecord,
): Promise<void> {
  const checkpoint = { ...emptyCheckpoint(), channel_values: { [CHANNEL]: record } };
  await saver.put(addressOf(threadId), checkpoint, { source: "input", step: -1, parents: {} }, {});
}
