/**
 * `items` grouped by `key`: one list per key, the keys in the order first met, each list in the
 * items' order (Map.groupBy, which Node 20 lacks). What splits a batch by shard, by target or by
 * sender before one call per group.
 */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group === undefined) out.set(k, [item]);
    else group.push(item);
  }
  return out;
}
