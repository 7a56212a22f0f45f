import { shardOf } from "./thread-shards.js";

/**
 * Where StoreCheckpointSaver keeps its threads (under the RedisClient's prefix). Every key of
 * a thread carries its shard's hash tag `{ckpt:<s>}` (thread-shards.ts), so each script
 * touches one Redis Cluster slot, the shard's thread index included. Thread ids and
 * namespaces are percent-encoded (E below): a `}` or `:` in them cannot break the tag or make
 * two threads' keys collide. A checkpoint id is the key's last part and needs no encoding.
 *
 *   {ckpt:s}:threads               hash    thread id -> when its keys expire (epoch ms), "0" never
 *   {ckpt:s}:E(T):fence            string  highest fencing token accepted for the thread
 *   {ckpt:s}:E(T):namespaces       set     E(ns) of the thread's namespaces ("" is the root graph)
 *   {ckpt:s}:E(T):n:E(ns):index    hash    checkpoint id -> {"parent_checkpoint_id","metadata"}
 *   {ckpt:s}:E(T):n:E(ns):head     string  id of the checkpoint stored last (a reassigned task resumes there)
 *   {ckpt:s}:E(T):n:E(ns):c:<id>   hash    "checkpoint", "values" when stored split, one "w:<idx>:<task>" per pending write
 *   {ckpt:s}:E(T):n:E(ns):values   hash    [channel, version] (JSON) -> the channel's value then (channel-values.ts)
 *
 * The scripts that walk a thread (read-checkpoint, delete-thread) derive the keys of a
 * namespace from its index key, and those of a thread from its namespaces key, by these rules.
 */
const enc = encodeURIComponent;

export function shardTag(shard: number): string {
  return `{ckpt:${shard}}`;
}

export function threadsKey(shard: number): string {
  return `${shardTag(shard)}:threads`;
}

export function threadsKeyOf(threadId: string): string {
  return threadsKey(shardOf(threadId));
}

function threadBase(threadId: string): string {
  return `${shardTag(shardOf(threadId))}:${enc(threadId)}`;
}

export function fenceKey(threadId: string): string {
  return `${threadBase(threadId)}:fence`;
}

export function namespacesKey(threadId: string): string {
  return `${threadBase(threadId)}:namespaces`;
}

/** A namespace as the namespaces set holds it (the scripts build its keys from it). */
export function namespaceMember(ns: string): string {
  return enc(ns);
}

export function namespaceOfMember(member: string): string {
  return decodeURIComponent(member);
}

export function indexKey(threadId: string, ns: string): string {
  return `${threadBase(threadId)}:n:${enc(ns)}:index`;
}

export function headKey(threadId: string, ns: string): string {
  return `${threadBase(threadId)}:n:${enc(ns)}:head`;
}

export function valuesKey(threadId: string, ns: string): string {
  return `${threadBase(threadId)}:n:${enc(ns)}:values`;
}

export function checkpointKey(threadId: string, ns: string, checkpointId: string): string {
  return `${threadBase(threadId)}:n:${enc(ns)}:c:${checkpointId}`;
}

/** The field of a pending write in its checkpoint's hash. */
export function writeField(slot: string): string {
  return `w:${slot}`;
}
