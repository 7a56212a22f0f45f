/**
 * Task records are spread over a fixed number of shards. Every key of a shard carries the
 * hash tag `{t<n>}`, so one shard is one Redis Cluster slot and a script can change a batch
 * of its tasks atomically; different shards land on different cluster nodes.
 */
export const DEFAULT_SHARDS = 16;

/** FNV-1a of the task id: stable across processes and languages. */
export function shardOf(taskId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export function shardTag(shard: number): string {
  return `{t${shard}}:`;
}
