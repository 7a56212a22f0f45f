import type { RunnableConfig } from "@langchain/core/runnables";
import type {
  BaseCheckpointSaver,
  Checkpoint,
  CheckpointMetadata,
  CheckpointTuple,
} from "@langchain/langgraph/web";
import { copyCheckpoint } from "@langchain/langgraph/web";
import {
  compareWritesSortKeys,
  getCheckpointId,
  WRITES_IDX_MAP,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import { TriadError } from "../../errors.js";
import type {
  CheckpointPutTransfer,
  CheckpointWritesTransfer,
  SerializedValue,
  TransferredWrite,
} from "./transfer.js";

/** Between LangGraph's checkpoint objects and the transfer JSON; shared by both savers. */

export type Serde = BaseCheckpointSaver["serde"];
export type PendingWrite = Parameters<BaseCheckpointSaver["putWrites"]>[1][number];
export type ListOptions = NonNullable<Parameters<BaseCheckpointSaver["list"]>[1]>;
export type ChannelVersions = Parameters<BaseCheckpointSaver["put"]>[3];

/** One pending write as a saver keeps it: the transfer's write plus its task. */
export type StoredWrite = TransferredWrite & { task_id: string; task_path: string };

export type CheckpointAddress = { threadId: string; ns: string; checkpointId: string | undefined };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Reads thread_id / checkpoint_ns / checkpoint_id from a config; a missing thread_id is an error. */
export function addressOf(config: RunnableConfig, operation: string): CheckpointAddress {
  const threadId = config.configurable?.thread_id;
  if (typeof threadId !== "string" || threadId.length === 0) {
    throw new TriadError(
      "ERR_INVALID_CHECKPOINT_CONFIG",
      `${operation} needs config.configurable.thread_id (a non-empty string; Triad uses the task id), got ${JSON.stringify(threadId)}`,
    );
  }
  const ns = config.configurable?.checkpoint_ns ?? "";
  if (typeof ns !== "string") {
    throw new TriadError("ERR_INVALID_CHECKPOINT_CONFIG", `${operation}: checkpoint_ns must be a string`);
  }
  const checkpointId = getCheckpointId(config) || undefined;
  return { threadId, ns, checkpointId };
}

export function configOf(threadId: string, ns: string, checkpointId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpointId } };
}

export async function serialize(serde: Serde, value: unknown): Promise<SerializedValue> {
  const [type, bytes] = await serde.dumpsTyped(value);
  if (type === "json") {
    try {
      return { type, text: utf8.decode(bytes) };
    } catch {
      // not UTF-8 after all: fall through to base64
    }
  }
  return { type, base64: Buffer.from(bytes).toString("base64") };
}

export function deserialize(serde: Serde, value: SerializedValue): Promise<unknown> {
  if ("text" in value) return serde.loadsTyped(value.type, encoder.encode(value.text));
  return serde.loadsTyped(value.type, new Uint8Array(Buffer.from(value.base64, "base64")));
}

export async function encodePut(
  serde: Serde,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
): Promise<CheckpointPutTransfer> {
  const { threadId, ns, checkpointId: parentId } = addressOf(config, "put");
  const [cp, meta] = await Promise.all([
    serialize(serde, copyCheckpoint(checkpoint)),
    serialize(serde, metadata),
  ]);
  return {
    kind: "checkpoint",
    v: 1,
    thread_id: threadId,
    checkpoint_ns: ns,
    checkpoint_id: checkpoint.id,
    parent_checkpoint_id: parentId ?? null,
    checkpoint: cp,
    metadata: meta,
  };
}

export async function encodeWrites(
  serde: Serde,
  config: RunnableConfig,
  writes: PendingWrite[],
  taskId: string,
  taskPath = "",
): Promise<CheckpointWritesTransfer> {
  const { threadId, ns, checkpointId } = addressOf(config, "putWrites");
  if (checkpointId === undefined) {
    throw new TriadError(
      "ERR_INVALID_CHECKPOINT_CONFIG",
      "putWrites needs config.configurable.checkpoint_id",
    );
  }
  const encoded = await Promise.all(
    writes.map(async ([channel, value], i) => ({
      // LangGraph's convention: special channels (errors, interrupts...) get fixed negative slots.
      idx: (Object.hasOwn(WRITES_IDX_MAP, channel) ? WRITES_IDX_MAP[channel] : undefined) ?? i,
      channel,
      value: await serialize(serde, value),
    })),
  );
  return {
    kind: "writes",
    v: 1,
    thread_id: threadId,
    checkpoint_ns: ns,
    checkpoint_id: checkpointId,
    task_id: taskId,
    task_path: taskPath,
    writes: encoded,
  };
}

export function storedWrites(record: CheckpointWritesTransfer): StoredWrite[] {
  return record.writes.map((w) => ({ ...w, task_id: record.task_id, task_path: record.task_path }));
}

/** A write's slot: one per (task, idx). */
export function writeSlot(write: { idx: number; task_id: string }): string {
  return `${write.idx}:${write.task_id}`;
}

/** A task's regular writes are kept from its first report (retries are idempotent); special ones replace. */
export function replacesExisting(idx: number): boolean {
  return idx < 0;
}

export async function decodeTuple(
  serde: Serde,
  put: CheckpointPutTransfer,
  writes: Iterable<StoredWrite>,
): Promise<CheckpointTuple> {
  const ordered = [...writes].sort((a, b) =>
    compareWritesSortKeys(
      writesSortKey(a.task_path, a.task_id, a.idx),
      writesSortKey(b.task_path, b.task_id, b.idx),
    ),
  );
  const [checkpoint, metadata, pendingWrites] = await Promise.all([
    deserialize(serde, put.checkpoint) as Promise<Checkpoint>,
    deserialize(serde, put.metadata) as Promise<CheckpointMetadata>,
    Promise.all(
      ordered.map(
        async (w) => [w.task_id, w.channel, await deserialize(serde, w.value)] as [string, string, unknown],
      ),
    ),
  ]);
  const tuple: CheckpointTuple = {
    config: configOf(put.thread_id, put.checkpoint_ns, put.checkpoint_id),
    checkpoint,
    metadata,
    pendingWrites,
  };
  if (put.parent_checkpoint_id !== null) {
    tuple.parentConfig = configOf(put.thread_id, put.checkpoint_ns, put.parent_checkpoint_id);
  }
  return tuple;
}

/** list()'s filter: every given metadata key equals (===) the checkpoint's. */
export function matchesFilter(
  metadata: CheckpointMetadata | undefined,
  filter: ListOptions["filter"],
): boolean {
  if (filter === undefined) return true;
  const meta = (metadata ?? {}) as Record<string, unknown>;
  return Object.entries(filter).every(([key, value]) => meta[key] === value);
}
