import { readFileSync } from "node:fs";
import { defineScript, type StoreScript, withPrelude } from "../../core/store/index.js";
import { defineOpenScript } from "./open-index.js";
import { unpackedArgs } from "./packed-args.js";

/**
 * Grouped scripts: one call carries the items of many shards (every shard's on a single Redis,
 * one shard's per call on Redis Cluster, where a script stays in one slot). From its first
 * grouped argument on, ARGV holds one group per shard: the shard's key prefix, the number of
 * items n, then n items of `stride` values each (see scripts/submit-tasks-1.lua). The ledger,
 * the cancel cascade and the live room's progress all write task records this way.
 */

const EACH_GROUP = readFileSync(new URL("./scripts/each-group.lua", import.meta.url), "utf8");

/**
 * `script` with scripts/each-group.lua before its text: each_group(first, stride, visit) walks
 * the groups (the Lua twin of eachGroup), and read_each is its case for one task id per item.
 * Either reads ARGV packed into one value (packed-args.ts) as if it came unpacked.
 */
export function withGroups(script: StoreScript): StoreScript {
  const grouped = withPrelude(script, EACH_GROUP);
  // The twin reads a packed ARGV (packed-args.ts) split back, as the Lua prelude does.
  const { memory } = script;
  return { ...grouped, memory: (db, keys, args) => memory(db, keys, unpackedArgs(args)) };
}

/** defineScript (src/core/store/script.ts) for a grouped script. */
export function groupedScript(...args: Parameters<typeof defineScript>): StoreScript {
  return withGroups(defineScript(...args));
}

/** groupedScript for a grouped script that also calls the open-index functions (open-index.ts). */
export function groupedOpenScript(...args: Parameters<typeof defineScript>): StoreScript {
  return withGroups(defineOpenScript(...args));
}

/**
 * Walks the groups of a grouped script's ARGV from `from` (0-based) on, for the embedded twins:
 * visit(prefix, item) for every item, in order, `item` its `stride` values.
 */
export function eachGroup(
  args: string[],
  from: number,
  stride: number,
  visit: (prefix: string, item: string[]) => void,
): void {
  let i = from;
  while (i < args.length) {
    const prefix = args[i]!;
    const count = Number(args[i + 1]);
    i += 2;
    for (let k = 0; k < count; k++, i += stride) visit(prefix, args.slice(i, i + stride));
  }
}
