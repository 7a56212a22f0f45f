import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph/web";
import { type ChannelVersions, deserialize, encodePut, type Serde, serialize } from "./codec.js";
import type { CheckpointPutTransfer } from "./transfer.js";

/**
 * A checkpoint put() stores split, as LangGraph's Postgres and Redis savers do: the checkpoint
 * without its channel values, and apart from it only the values of the channels the put's
 * newVersions names, each under its (channel, version). A channel a step did not change is
 * read from the blob an earlier checkpoint of the namespace stored, so a large input is kept
 * once per thread instead of once per step.
 */
export type SplitPut = {
  /** The transfer form with the checkpoint's channel_values emptied. */
  skeleton: CheckpointPutTransfer;
  /** The blob fields of every channel the checkpoint has a version of (JSON). */
  channels: string;
  /** The values this put stores: blob field, serialized value (JSON of a SerializedValue). */
  blobs: [string, string][];
};

/** A channel value's field in its namespace's values hash. */
export function blobField(channel: string, version: unknown): string {
  return JSON.stringify([channel, version]);
}

export async function splitPut(
  serde: Serde,
  config: RunnableConfig,
  checkpoint: Checkpoint,
  metadata: CheckpointMetadata,
  newVersions: ChannelVersions,
): Promise<SplitPut> {
  const versions = checkpoint.channel_versions;
  const skeleton = await encodePut(serde, config, { ...checkpoint, channel_values: {} }, metadata);
  // A value without a version (not something LangGraph writes) is stored with its checkpoint.
  const unversioned = Object.keys(checkpoint.channel_values).filter((c) => !Object.hasOwn(versions, c));
  const own = { checkpoint: checkpoint.id };
  const blobs: [string, string][] = [];
  for (const channel of new Set([...Object.keys(newVersions), ...unversioned])) {
    if (!Object.hasOwn(checkpoint.channel_values, channel)) continue;
    const value = checkpoint.channel_values[channel];
    if (value === undefined) continue;
    const version = Object.hasOwn(versions, channel) ? versions[channel] : own;
    blobs.push([blobField(channel, version), JSON.stringify(await serialize(serde, value))]);
  }
  const fields = [...Object.entries(versions), ...unversioned.map((c) => [c, own] as const)];
  const channels = JSON.stringify(fields.map(([c, v]) => blobField(c, v)));
  return { skeleton, channels, blobs };
}

/** Puts the stored values back into a checkpoint read without them. */
export async function restoreValues(
  serde: Serde,
  checkpoint: Checkpoint,
  blobs: ReadonlyMap<string, string>,
): Promise<void> {
  checkpoint.channel_values ??= {};
  for (const [field, json] of blobs) {
    const [channel] = JSON.parse(field) as [string, unknown];
    checkpoint.channel_values[channel] = await deserialize(serde, JSON.parse(json));
  }
}

/**
 * The next channel version: the integer above the newest, plus a random fraction. Versions
 * still increase (LangGraph compares them as numbers), and two forks of one checkpoint never
 * give a channel the same version, so neither overwrites the value the other stored under it
 * (LangGraph's Postgres saver adds a random suffix for the same reason).
 */
export function nextVersion(current: number | undefined): number {
  return Math.floor(current ?? 0) + 1 + Math.random() * 0.999;
}
