import type { StoredWrite } from "./codec.js";
import type { CheckpointPutTransfer, CheckpointWritesTransfer, SerializedValue } from "./transfer.js";

/** Between StoreCheckpointSaver's hashes (store-keys.ts) and the transfer form it reads them into. */

/** A namespace index's value for one checkpoint. */
export type IndexEntry = { parent_checkpoint_id: string | null; metadata: SerializedValue };

/** A checkpoint as read; `values` holds the channel values of one put() stored split. */
export type StoredCheckpoint = {
  put: CheckpointPutTransfer;
  writes: StoredWrite[];
  values: Map<string, string> | undefined;
};

/** read-checkpoint-1.lua's reply: id, meta, the checkpoint hash, the channel values found. */
export type ReadCheckpointReply = [string, string, string[], string[]];

export function storedCheckpoint(
  threadId: string,
  ns: string,
  [checkpointId, meta, record, values]: ReadCheckpointReply,
): StoredCheckpoint | undefined {
  const fields = pairs(record);
  const checkpoint = fields.get("checkpoint");
  if (checkpoint === undefined) return undefined;
  const { parent_checkpoint_id, metadata } = JSON.parse(meta) as IndexEntry;
  const put: CheckpointPutTransfer = {
    kind: "checkpoint",
    v: 1,
    thread_id: threadId,
    checkpoint_ns: ns,
    checkpoint_id: checkpointId,
    parent_checkpoint_id,
    checkpoint: JSON.parse(checkpoint) as SerializedValue,
    metadata,
  };
  return { put, writes: writesOf(fields), values: fields.has("values") ? pairs(values) : undefined };
}

/** A flat field, value, field, value... reply as a Map. */
export function pairs(flat: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  return fields;
}

/** The pending writes among a checkpoint hash's fields. */
export function writesOf(fields: Map<string, string>): StoredWrite[] {
  const writes: StoredWrite[] = [];
  for (const [field, value] of fields)
    if (field.startsWith("w:")) writes.push(JSON.parse(value) as StoredWrite);
  return writes;
}

/** A checkpoint's writes as transfers, one per task (the form putWrites sent them in). */
export function groupWrites(put: CheckpointPutTransfer, writes: StoredWrite[]): CheckpointWritesTransfer[] {
  const byTask = new Map<string, CheckpointWritesTransfer>();
  for (const w of writes) {
    const key = JSON.stringify([w.task_id, w.task_path]);
    let t = byTask.get(key);
    if (t === undefined) {
      t = {
        kind: "writes",
        v: 1,
        thread_id: put.thread_id,
        checkpoint_ns: put.checkpoint_ns,
        checkpoint_id: put.checkpoint_id,
        task_id: w.task_id,
        task_path: w.task_path,
        writes: [],
      };
      byTask.set(key, t);
    }
    t.writes.push({ idx: w.idx, channel: w.channel, value: w.value });
  }
  return [...byTask.values()];
}
