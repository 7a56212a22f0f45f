import type { StoreEngine } from "../../src/core/store/engine.js";
import { asStoreError } from "../../src/core/store/store-outage.js";
import type { RedisClient } from "../../src/index.js";

/** The commands a failing store refuses (subscriptions and the connection itself go on). */
const COMMANDS = ["get", "set", "del", "exists", "incrBy", "publish", "runScript"] as const;

/**
 * Makes a store's commands fail the way a Redis Cluster failing over fails them: each refused
 * command rejects with the ERR_STORE_UNAVAILABLE that "CLUSTERDOWN The cluster is down" becomes,
 * and the store's outage is told, as the Redis engines' watchdog does. `failing()` is asked at
 * every command: true refuses it. The error is made when the command is sent, so its stack
 * names the caller (up to its first await): an unhandled one tells which call it was. A
 * command let through is answered a turn of the event loop later, as over a network.
 */
export function failingStore(store: RedisClient, failing: () => boolean): { refused: number } {
  const engine = store.engine as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const state = { refused: 0 };
  for (const name of COMMANDS) {
    const original = engine[name]!.bind(store.engine as StoreEngine);
    engine[name] = (...args: unknown[]) => {
      // A reply ends the outage (the Redis engines tell it themselves, the memory engine does
      // not); it comes a turn of the event loop later, as over a network, on the memory engine too.
      if (!failing())
        return original(...args).then(
          (v) =>
            new Promise((resolve) =>
              setImmediate(() => {
                store.outage.answered();
                resolve(v);
              }),
            ),
        );
      state.refused++;
      const what = name === "runScript" ? `script ${(args[0] as { name: string }).name}` : name.toUpperCase();
      const err = asStoreError(new Error("CLUSTERDOWN The cluster is down"), what);
      store.outage.failed(err as Parameters<typeof store.outage.failed>[0]);
      return Promise.reject(err);
    };
  }
  return state;
}

/** Rejections nobody handled while it listens, each with its stack (which names the call). */
export function unhandledRejections(): { seen: string[]; stop(): void } {
  const seen: string[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
  };
  process.on("unhandledRejection", listener);
  return { seen, stop: () => void process.off("unhandledRejection", listener) };
}
