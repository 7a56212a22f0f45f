/**
 * `fn`, asked at most once per key: later calls with the same key answer what the first did.
 * For a pass over many items that asks something costly of few distinct keys (e.g. whether a
 * task type waits for a runner, asked for every waiting task of a backlog).
 */
export function oncePerKey<K, V>(fn: (key: K) => V): (key: K) => V {
  const answers = new Map<K, V>();
  return (key) => {
    if (answers.has(key)) return answers.get(key) as V;
    const v = fn(key);
    answers.set(key, v);
    return v;
  };
}
