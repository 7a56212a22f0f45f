import * as crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { defineScript, type MemoryKeyspace, type StoreScript, withPrelude } from "../../core/store/index.js";

/**
 * The index of a shard's open tasks: small listpack hashes (buckets) instead of one set per
 * shard, so that a waiting task costs ~13 bytes in it instead of ~64 (issue 22). The Lua
 * functions are scripts/open-index.lua, prepended to every script that adds, removes or lists
 * open tasks (defineOpenScript); the functions here are their twins for the embedded engine.
 */

/** Buckets per shard at each level; an id goes to the first level whose bucket has room. */
export const OPEN_BUCKETS = [64, 512, 4096, 32768];
/** Ids a bucket takes before the next level is used: Redis's hash-max-listpack-entries. */
export const OPEN_BUCKET_IDS = 128;
/** Longer ids go to the shard's `open` set (a longer field would make its bucket a hashtable). */
export const OPEN_ID_BYTES = 64;

const LUA = readFileSync(new URL("./scripts/open-index.lua", import.meta.url), "utf8");
/** One-shot hashing (Node 20.12+, 7x cheaper for an id than a Hash object); createHash before it. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

/**
 * defineScript (src/core/store/script.ts) for a script that calls the open-index functions
 * (open_add, open_remove, open_ids): they are defined before the script's own text.
 */
export function defineOpenScript(...args: Parameters<typeof defineScript>): StoreScript {
  return withPrelude(defineScript(...args), LUA);
}

/** The bucket an id of at most OPEN_ID_BYTES takes at `level` (0 first) of its shard's index. */
export function openBucketOf(id: string, level: number): number {
  return openHash(id) % OPEN_BUCKETS[level]!;
}

/** The first 24 bits of the SHA-1 of an id's UTF-8 bytes (redis.sha1hex in the Lua). */
function openHash(id: string): number {
  const hex =
    oneShot === undefined ? crypto.createHash("sha1").update(id, "utf8").digest("hex") : oneShot("sha1", id);
  return Number.parseInt(hex.slice(0, 6), 16);
}

/** Whether an id is too long for a bucket (see OPEN_ID_BYTES): its UTF-8 bytes, as Redis gets them. */
const tooLong = (id: string) => Buffer.byteLength(id, "utf8") > OPEN_ID_BYTES;

const bucketKey = (prefix: string, h: number, level: number) =>
  `${prefix}open:${level}:${h % OPEN_BUCKETS[level]!}`;
const depthOf = (db: MemoryKeyspace, prefix: string) => Number(db.get(`${prefix}open:depth`) ?? 0);

export function openAdd(db: MemoryKeyspace, prefix: string, id: string): void {
  if (tooLong(id)) {
    db.sadd(`${prefix}open`, id);
    return;
  }
  const h = openHash(id);
  for (let level = 0; level < OPEN_BUCKETS.length; level++) {
    const bucket = bucketKey(prefix, h, level);
    if (level === OPEN_BUCKETS.length - 1 || db.hlen(bucket) < OPEN_BUCKET_IDS) {
      db.hset(bucket, { [id]: "" });
      if (level > 0 && depthOf(db, prefix) < level) db.set(`${prefix}open:depth`, String(level));
      return;
    }
  }
}

export function openRemove(db: MemoryKeyspace, prefix: string, id: string): void {
  if (!tooLong(id)) {
    const h = openHash(id);
    if (db.hdel(bucketKey(prefix, h, 0), id) === 1) return;
    for (let level = 1; level <= depthOf(db, prefix); level++)
      if (db.hdel(bucketKey(prefix, h, level), id) === 1) return;
  }
  db.srem(`${prefix}open`, id);
}

/** HINCRBY's twin: `field` of hash `key` raised by `by` (absent: 0); the new value. */
export function hincrby(db: MemoryKeyspace, key: string, field: string, by: number): number {
  const next = Number(db.hget(key, field) ?? 0) + by;
  db.hset(key, { [field]: String(next) });
  return next;
}

/** open_end's twin: the task leaves the index and its end (`status`) is counted in the shard's end-counts. */
export function openEnd(db: MemoryKeyspace, prefix: string, id: string, status: string): void {
  openRemove(db, prefix, id);
  hincrby(db, `${prefix}end-counts`, status, 1);
}

/**
 * The last step of a record's end, after its PEXPIRE: a task that others must hear of (it has
 * dependents, or `spawns` tasks to record) joins <prefix>ended, as the Lua twins' SADD does, and
 * is retired once settled (settleEnded); any other is retired now: counted among the finished
 * records the embedded store keeps at most (MemoryKeyspace.retire,
 * RedisConfig.memoryMaxFinished). Redis has no twin to the retiring: it keeps every record for
 * its retention.
 */
export function endedOrRetired(db: MemoryKeyspace, prefix: string, id: string, spawns = false): void {
  if (spawns || db.exists(`${prefix}dependents:${id}`)) db.sadd(`${prefix}ended`, id);
  else db.retire(`${prefix}task:${id}`);
}

/**
 * leave_due's twin: a task with a run_at or an expires_at leaves the due sets the sweep reads
 * (<prefix>delayed and <prefix>expiring) when it ends, not when its time comes.
 */
export function leaveDue(db: MemoryKeyspace, prefix: string, id: string): void {
  db.zrem(`${prefix}delayed`, id);
  db.zrem(`${prefix}expiring`, id);
}

/**
 * abandon_open's twin: an open task ended abandoned with `reason` (abandon-tasks-1.lua, the
 * cancel cascade's walk, sweep-due-1.lua's expiry, dependency-ended-1.lua, expire-inputs-1.lua),
 * `dist` its distributor (null when none).
 */
export function abandonOpen(
  db: MemoryKeyspace,
  prefix: string,
  id: string,
  dist: string | null,
  reason: string,
  at: string,
  retentionMs: string,
): void {
  const rec = `${prefix}task:${id}`;
  hincrby(db, rec, "fence", 1);
  db.hset(rec, { status: "abandoned", error: reason, completed_at: at });
  openEnd(db, prefix, id, "abandoned");
  if (dist !== null) db.srem(`${prefix}dist:${dist}`, id);
  db.pexpire(rec, Number(retentionMs));
  db.del(`${prefix}wait:${id}`);
  db.srem(`${prefix}waiting`, id);
  db.zrem(`${prefix}input_due`, id);
  leaveDue(db, prefix, id);
  endedOrRetired(db, prefix, id);
}

/** A script's counts of its shards' end-counts fields, written once its tasks are done (open_tally in the Lua). */
export type OpenTally = Map<string, Map<string, number>>;

/** open_tally's twin: one more `field` (submitted, or an end's status) of the shard, in `tally`. */
export function openTally(tally: OpenTally, prefix: string, field: string): void {
  const key = `${prefix}end-counts`;
  let by = tally.get(key);
  if (by === undefined) {
    by = new Map();
    tally.set(key, by);
  }
  by.set(field, (by.get(field) ?? 0) + 1);
}

/** open_end_tallied's twin: openEnd, its count kept in `tally` for openTallyWrite. */
export function openEndTallied(
  db: MemoryKeyspace,
  tally: OpenTally,
  prefix: string,
  id: string,
  status: string,
): void {
  openRemove(db, prefix, id);
  openTally(tally, prefix, status);
}

/** open_tally_write's twin: the tallied counts added to their shards' end-counts. */
export function openTallyWrite(db: MemoryKeyspace, tally: OpenTally): void {
  for (const [key, by] of tally) for (const [field, n] of by) hincrby(db, key, field, n);
}

export function openIds(db: MemoryKeyspace, prefix: string): string[] {
  const out = db.smembers(`${prefix}open`);
  for (let level = 0; level <= depthOf(db, prefix); level++)
    for (let b = 0; b < OPEN_BUCKETS[level]!; b++)
      out.push(...Object.keys(db.hgetall(`${prefix}open:${level}:${b}`)));
  return out;
}
