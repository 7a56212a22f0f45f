import { TriadError } from "../../core/errors.js";
import { checkKnownKeys, type KeysOf } from "../../core/known-keys.js";
import { optionsObject } from "../../core/option-kinds.js";
import type { LedgerEvent } from "./ledger-events.js";
import { DEFAULT_SHARDS } from "./shards.js";

export type LedgerOptions = {
  shards?: number;
  retentionSeconds?: number;
  /** Told about every change the ledger makes (see LedgerEvent); off the hot path when unset. */
  observer?: (event: LedgerEvent) => void;
};

const LEDGER_KEYS: KeysOf<LedgerOptions> = {
  shards: "number",
  retentionSeconds: "number",
  observer: "function",
};
/** Most task shards: each is a hash slot, and each coordinator walks every one of them. */
const MAX_SHARDS = 16_384;

/**
 * The ledger's options checked where they come in (`ledger.shards: "8"` was a shard count of
 * "8" and every task hashed to NaN; `ledger.shard: 8` was ignored).
 */
export function checkedLedgerOptions(
  options: LedgerOptions | undefined,
): Required<Pick<LedgerOptions, "shards">> & { retentionMs: number; observer: LedgerOptions["observer"] } {
  const o = optionsObject("ledger", options, {});
  checkKnownKeys("ledger", o, LEDGER_KEYS, "ledger.");
  const shards = o.shards ?? DEFAULT_SHARDS;
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_SHARDS)
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `ledger.shards must be an integer in 1..${MAX_SHARDS} (got ${shards})`,
      {
        option: "ledger.shards",
      },
    );
  const retentionSeconds = o.retentionSeconds ?? 24 * 3600;
  if (!Number.isFinite(retentionSeconds) || retentionSeconds <= 0)
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `ledger.retentionSeconds must be a positive number (got ${retentionSeconds})`,
      { option: "ledger.retentionSeconds" },
    );
  return { shards, retentionMs: Math.round(retentionSeconds * 1000), observer: o.observer };
}
