import type { Checkpoint } from "@langchain/langgraph/web";
import {
  compareWritesSortKeys,
  maxChannelVersion,
  TASKS,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { deserialize, type Serde, type StoredWrite } from "./codec.js";

/**
 * Checkpoints older than format v4 kept the sends a step scheduled (`Send` packets, channel
 * `__pregel_tasks`) as pending writes on the parent checkpoint, not in the checkpoint. LangGraph
 * reads them as the checkpoint's `__pregel_tasks` channel, versioned like its newest channel,
 * as MemorySaver does when it loads one; this is that migration, done on read (nothing stored
 * changes).
 */
export function needsPendingSends(checkpoint: Checkpoint, parentId: string | null): parentId is string {
  return checkpoint.v < 4 && parentId !== null;
}

export async function migratePendingSends(
  serde: Serde,
  checkpoint: Checkpoint,
  parentWrites: readonly StoredWrite[],
  nextVersion: () => Checkpoint["channel_versions"][string],
): Promise<void> {
  const sends = parentWrites
    .filter((w) => w.channel === TASKS)
    .sort((a, b) =>
      compareWritesSortKeys(
        writesSortKey(a.task_path, a.task_id, a.idx),
        writesSortKey(b.task_path, b.task_id, b.idx),
      ),
    );
  checkpoint.channel_values ??= {};
  checkpoint.channel_values[TASKS] = await Promise.all(sends.map((w) => deserialize(serde, w.value)));
  checkpoint.channel_versions ??= {};
  const versions = Object.values(checkpoint.channel_versions);
  checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : nextVersion();
}
