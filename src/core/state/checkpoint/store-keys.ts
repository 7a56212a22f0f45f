/**
 * Where StoreCheckpointSaver keeps a thread (under the RedisClient's prefix). Every key of a
 * thread carries the hash tag `{ckpt:<thread>}`, so each script touches one Redis Cluster slot.
 * Thread ids and namespaces are percent-encoded: a `}` or `:` in them cannot break the tag or
 * make two threads' keys collide.
 *
 *   {ckpt:T}:fence              string  highest fencing token accepted for the thread
 *   {ckpt:T}:namespaces         set     the thread's checkpoint namespaces ("" is the root graph)
 *   {ckpt:T}:n:<ns>:index       hash    checkpoint id -> {"parent_checkpoint_id","metadata"}
 *   {ckpt:T}:n:<ns>:head        string  id of the checkpoint stored last (the one to resume)
 *   {ckpt:T}:n:<ns>:c:<id>      hash    "checkpoint", "meta", and one "w:<idx>:<task>" per pending write
 */
const enc = encodeURIComponent;

export function threadTag(threadId: string): string {
  return `{ckpt:${enc(threadId)}}`;
}

export function fenceKey(threadId: string): string {
  return `${threadTag(threadId)}:fence`;
}

export function namespacesKey(threadId: string): string {
  return `${threadTag(threadId)}:namespaces`;
}

export function indexKey(threadId: string, ns: string): string {
  return `${threadTag(threadId)}:n:${enc(ns)}:index`;
}

export function headKey(threadId: string, ns: string): string {
  return `${threadTag(threadId)}:n:${enc(ns)}:head`;
}

export function checkpointKey(threadId: string, ns: string, checkpointId: string): string {
  return `${threadTag(threadId)}:n:${enc(ns)}:c:${enc(checkpointId)}`;
}

/** The field of a pending write in its checkpoint's hash. */
export function writeField(slot: string): string {
  return `w:${slot}`;
}
