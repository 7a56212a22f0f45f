import type { RedisClient } from "../../core/store/index.js";

/**
 * The notice that a limit was set or removed, published right after the change (Celery's
 * `rate_limit` control command is a broadcast too): every distributor's LimitGate reads the
 * limits again at once instead of at its next refresh. Under the `{limits}` hash tag, so on Redis
 * Cluster the (sharded) channel lives in the limits' slot. A notice lost (a subscriber
 * reconnecting) leaves the gate's periodic refresh as the bound.
 */
const LIMITS_CHANNEL = "{limits}:changed";

/** Tells every gate that `taskType`'s limit changed; a failure is left to their refresh. */
export async function announceLimitChange(store: RedisClient, taskType: string): Promise<void> {
  await store.publish(LIMITS_CHANNEL, { task_type: taskType }).catch(() => 0);
}

/** Calls `changed` on every notice; false when the store could not subscribe (the refresh still runs). */
export function hearLimitChanges(store: RedisClient, changed: () => void): Promise<boolean> {
  return store.subscribe(LIMITS_CHANNEL, () => changed()).catch(() => false);
}

export function stopHearingLimitChanges(store: RedisClient): Promise<void> {
  return store.unsubscribe(LIMITS_CHANNEL).catch(() => {});
}
