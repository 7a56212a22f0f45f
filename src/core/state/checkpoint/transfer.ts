import { z } from "zod";
import { parseDict } from "../validation.js";

/**
 * The JSON form of LangGraph checkpoints in transit: what a worker's RelayCheckpointSaver hands
 * its sink (to send to the distributor in A2A messages), what the distributor's
 * StoreCheckpointSaver imports, and what it exports to seed the next worker of a reassigned
 * task. Plain JSON, so it fits a message payload and survives canonical-JSON signing.
 *
 *   { kind: "checkpoint", v: 1, thread_id, checkpoint_ns, checkpoint_id,
 *     parent_checkpoint_id: string | null,
 *     checkpoint: SerializedValue, metadata: SerializedValue }
 *   { kind: "writes", v: 1, thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
 *     writes: [{ idx, channel, value: SerializedValue }] }
 *
 * A SerializedValue is the saver's serde output: `{ type: "json", text }` when it is JSON
 * text (the usual case, JsonPlusSerializer), `{ type, base64 }` for anything else.
 */
export type SerializedValue = { type: string; text: string } | { type: string; base64: string };

export type CheckpointPutTransfer = {
  kind: "checkpoint";
  v: 1;
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  checkpoint: SerializedValue;
  metadata: SerializedValue;
};

export type TransferredWrite = { idx: number; channel: string; value: SerializedValue };

export type CheckpointWritesTransfer = {
  kind: "writes";
  v: 1;
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  task_id: string;
  task_path: string;
  writes: TransferredWrite[];
};

export type CheckpointTransfer = CheckpointPutTransfer | CheckpointWritesTransfer;

const id = z.string().min(1, "must be a non-empty string");

const serializedValue = z.union([
  z.strictObject({ type: z.string().min(1), text: z.string() }),
  z.strictObject({ type: z.string().min(1), base64: z.base64() }),
]);

const transferSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("checkpoint"),
    v: z.literal(1),
    thread_id: id,
    checkpoint_ns: z.string(),
    checkpoint_id: id,
    parent_checkpoint_id: id.nullable(),
    checkpoint: serializedValue,
    metadata: serializedValue,
  }),
  z.strictObject({
    kind: z.literal("writes"),
    v: z.literal(1),
    thread_id: id,
    checkpoint_ns: z.string(),
    checkpoint_id: id,
    task_id: id,
    task_path: z.string(),
    writes: z.array(z.strictObject({ idx: z.number().int(), channel: id, value: serializedValue })),
  }),
]);

/** Validates a transfer that came from outside (a worker's message); ERR_INVALID_CHECKPOINT names the field. */
export function parseCheckpointTransfer(input: unknown): CheckpointTransfer {
  return parseDict(
    transferSchema,
    input,
    "ERR_INVALID_CHECKPOINT",
    "checkpoint transfer",
  ) as CheckpointTransfer;
}
