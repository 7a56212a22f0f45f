/**
 * Checkpoint threads are spread over a fixed number of shards. Every key of a thread carries
 * its shard's hash tag `{ckpt:<n>}`, so a thread and its shard's thread index live in one
 * Redis Cluster slot: a put records the thread in the index in the same atomic script. Sixteen
 * shards spread the threads over up to sixteen cluster nodes (the ledger's tasks do the same).
 */
export const CHECKPOINT_SHARDS = 16;

/** FNV-1a of the thread id: stable across processes, hosts and versions (the keys depend on it). */
export function shardOf(threadId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < threadId.length; i++) {
    h ^= threadId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % CHECKPOINT_SHARDS;
}
