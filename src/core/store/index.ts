export type { RedisConfig } from "./config.js";
export { DEFAULT_BUSY_POLL_US, redactUrl } from "./config.js";
export {
  diagnoseConnectFailure,
  type StoreConnectCause,
  type StoreConnectFailure,
} from "./connect-failure.js";
export type { ScriptReply, StoreEngine, StoreScript } from "./engine.js";
export { MemoryKeyspace } from "./engines/memory/keyspace.js";
export { dropMemoryServer } from "./engines/memory/server.js";
export { type LeaseInfo, RedisClient, type TransactionOptions } from "./redis-client.js";
export { checkRedisTls, type RedisTlsOptions } from "./redis-tls.js";
export { defineScript, withPrelude } from "./script.js";
export { asStoreError, type OutageListener, StoreOutage } from "./store-outage.js";
