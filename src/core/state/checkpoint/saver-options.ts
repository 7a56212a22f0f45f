import { TriadError } from "../../errors.js";
import { checkKnownKeys, type KeysOf } from "../../known-keys.js";
import { optionsObject, shownValue } from "../../option-kinds.js";
import type { RedisConfig } from "../../store/config.js";
import { REDIS_KEYS, resolveStoreTarget } from "../../store/config.js";
import { RedisClient } from "../../store/redis-client.js";
import type { Serde } from "./codec.js";

export type StoreCheckpointSaverOptions = {
  /** Every write refreshes the thread's keys to expire after this long; default: kept until deleteThread. */
  ttlSeconds?: number;
  serde?: Serde;
};

/** StoreCheckpointSaver.fromUrl's options: the saver's, and the store's beyond its URL. */
export type StoreCheckpointSaverUrlOptions = StoreCheckpointSaverOptions & Omit<RedisConfig, "url">;

const SAVER_KEYS: KeysOf<StoreCheckpointSaverOptions> = { ttlSeconds: "number", serde: "object" };
const { url: _url, ...STORE_KEYS_BUT_URL } = REDIS_KEYS;
/** fromUrl takes the store's keys flat beside the saver's: a key is named as the caller wrote it (`typo`, not `redis.typo`). */
const URL_OPTION_KEYS: KeysOf<StoreCheckpointSaverUrlOptions> = { ...STORE_KEYS_BUT_URL, ...SAVER_KEYS };

/** new StoreCheckpointSaver(client, options): a RedisClient, and options of known keys and types. */
export function checkSaverArguments(client: unknown, options: StoreCheckpointSaverOptions): void {
  if (!(client instanceof RedisClient))
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `new StoreCheckpointSaver(): the client must be a RedisClient (got ${shownValue(client)}); StoreCheckpointSaver.fromUrl() takes a URL`,
      { option: "client", expected: "RedisClient" },
    );
  optionsObject("new StoreCheckpointSaver()", options);
  checkKnownKeys("new StoreCheckpointSaver()", options, SAVER_KEYS);
}

/** StoreCheckpointSaver.fromUrl(url, options): a URL string, and options of known keys and types. */
export function checkFromUrlArguments(url: unknown, options: StoreCheckpointSaverUrlOptions): void {
  if (typeof url !== "string")
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `StoreCheckpointSaver.fromUrl(): url must be a string (got ${shownValue(url)})`,
      { option: "url", expected: "string" },
    );
  const what = "StoreCheckpointSaver.fromUrl()";
  optionsObject(what, options);
  checkKnownKeys(what, options, URL_OPTION_KEYS);
  // The store's checks, with its keys named as they were given here (`port`, not `redis.port`).
  const { ttlSeconds: _ttl, serde: _serde, ...store } = options;
  resolveStoreTarget({ ...store, url }, { what, prefix: "" });
}
