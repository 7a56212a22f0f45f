import type { Logger } from "../core/logger.js";
import type { RedisClient } from "../core/store/index.js";

/**
 * One warning when the store becomes unavailable and one line when it is back, however many
 * requests and periodic tasks failed in between (those are logged at debug level meanwhile).
 */
export function logStoreOutages(store: RedisClient, log: Logger, consequence: string): void {
  store.outage.listen({
    down: (err) => log.warn({ err: err.message }, `store unavailable: ${consequence}`),
    up: (downMs) => log.info({ down_ms: Math.round(downMs) }, "store available again"),
  });
}
