import type { RedisClient, StoreEngine, StoreScript } from "../../core/store/index.js";

/**
 * Calls an agent's store client made to its engine, by command: `GET`, `SET`, ... and
 * `EVALSHA:<script>` for each atomic script. On Redis each call is a command on the wire
 * (node-redis pipelines the calls of one tick into one write, so calls >= network round trips);
 * the embedded engine counts the same calls.
 */
export type StoreCallCounts = Map<string, number>;

const COMMANDS: Record<string, string> = {
  get: "GET",
  set: "SET",
  del: "DEL",
  exists: "EXISTS",
  incrBy: "INCRBY",
  publish: "PUBLISH",
  subscribe: "SUBSCRIBE",
  unsubscribe: "UNSUBSCRIBE",
};

const counted = new WeakMap<StoreEngine, StoreCallCounts>();

/**
 * Starts counting the engine calls of `client` (once per engine; later calls answer the same
 * counts). Wraps the engine's methods on that one instance; the store's code is unchanged.
 */
export function countStoreCalls(client: RedisClient): StoreCallCounts {
  const engine = client.engine;
  const known = counted.get(engine);
  if (known) return known;
  const counts: StoreCallCounts = new Map();
  const bump = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const methods = engine as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [method, command] of Object.entries(COMMANDS)) {
    const original = methods[method];
    if (typeof original !== "function") continue;
    methods[method] = (...args: unknown[]) => {
      bump(command);
      return original.apply(engine, args);
    };
  }
  const runScript = engine.runScript;
  // Each script's key made once: a string made per call would be hashed anew at every count.
  const scriptKeys = new Map<StoreScript, string>();
  engine.runScript = (script: StoreScript, keys: string[], args: (string | number)[]) => {
    let key = scriptKeys.get(script);
    if (key === undefined) {
      key = `EVALSHA:${script.name}`;
      scriptKeys.set(script, key);
    }
    bump(key);
    return runScript.call(engine, script, keys, args);
  };
  counted.set(engine, counts);
  return counts;
}
