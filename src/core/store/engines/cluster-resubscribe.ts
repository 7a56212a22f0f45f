import type { RedisClusterType } from "redis";

/**
 * The event node-redis' cluster client emits when a node's subscriptions must move to another
 * node: its node left the slot map (a failover promoted its replica) or answered MOVED
 * (`RESUBSCRIBE_LISTENERS_EVENT` in @redis/client's cluster-slots).
 */
const RESUBSCRIBE_EVENT = "__resubscribeListeners";

type Listener = (message: string, channel: string) => void;
type ChannelListeners = { strings: Set<Listener>; buffers: Set<unknown> };
type MovedListeners = Partial<Record<"CHANNELS" | "PATTERNS" | "SHARDED", Map<string, ChannelListeners>>>;

/** Longest wait between two attempts to subscribe a moved channel again. */
const RETRY_MAX_MS = 2000;

/**
 * Subscribes moved sharded channels again, and keeps trying until it works or the channel is no
 * longer wanted. node-redis' own handler (`resubscribeAllPubSubListeners`) sends each SSUBSCRIBE
 * without waiting for its answer: one refused by the new node (NOPERM, a connection lost again
 * while the cluster settles) is an unhandled rejection, which ends a Node.js process, and the
 * channel stays unsubscribed for good. This handler takes its place on `cluster`.
 *
 * `wanted(channel, listener)` says whether the engine still wants the subscription (it was not
 * unsubscribed, the engine not closed meanwhile); `failed` hears each refused attempt.
 */
export function resubscribeMovedChannels(
  cluster: RedisClusterType,
  wanted: (channel: string, listener: Listener) => boolean,
  failed: (err: Error) => void,
): void {
  const subscribe = (channel: string, listener: Listener, attempt: number): void => {
    if (!wanted(channel, listener)) return;
    cluster.SSUBSCRIBE(channel, listener).catch((err: Error) => {
      failed(err);
      const retry = setTimeout(
        () => subscribe(channel, listener, attempt + 1),
        Math.min(100 * 2 ** attempt, RETRY_MAX_MS),
      );
      retry.unref();
    });
  };
  cluster.removeAllListeners(RESUBSCRIBE_EVENT);
  cluster.on(RESUBSCRIBE_EVENT, (moved: MovedListeners) => {
    // Triad's engine subscribes sharded channels only, with string listeners.
    for (const [channel, listeners] of moved.SHARDED ?? [])
      for (const listener of listeners.strings) subscribe(channel, listener, 0);
  });
}
