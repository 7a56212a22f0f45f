import type { MemoryKeyspace } from "../../core/store/index.js";
import { abandonOpen, defineOpenScript } from "../ledger/open-index.js";

/**
 * The scheduling controls' atomic step (its Lua file documents KEYS, ARGV and replies) and its
 * twin for the embedded engine, line for line.
 */

/** An expiring task that is due: ended abandoned ("expired") if pending and never started. */
function sweepExpired(
  db: MemoryKeyspace,
  prefix: string,
  id: string,
  completedAt: string,
  retentionMs: string,
): boolean {
  const rec = `${prefix}task:${id}`;
  if (db.hget(rec, "status") !== "pending" || Number(db.hget(rec, "attempts") ?? 0) !== 0) return false;
  abandonOpen(db, prefix, id, db.hget(rec, "distributor"), "expired", completedAt, retentionMs);
  return true;
}

export const sweepDue = defineOpenScript(import.meta.url, "sweep-due-1.lua", (db, _keys, args) => {
  const [nowMs, completedAt, retentionMs, limitArg] = args as [string, string, string, string];
  const now = Number(nowMs);
  const limit = Number(limitArg);
  const released: string[] = [];
  const expired: string[] = [];
  let more = 0;
  let next = "";
  for (const prefix of args.slice(4)) {
    const delayed = `${prefix}delayed`;
    const expiring = `${prefix}expiring`;
    // Expired first: a task due both ways in this call ends, and is not released to be placed.
    let due = db.zrangeByScore(expiring, now, limit);
    if (due.length === limit) more = 1;
    for (const [id] of due) {
      db.zrem(expiring, id);
      if (sweepExpired(db, prefix, id, completedAt, retentionMs)) expired.push(id);
    }
    due = db.zrangeByScore(delayed, now, limit);
    if (due.length === limit) more = 1;
    for (const [id] of due) {
      db.zrem(delayed, id);
      const rec = `${prefix}task:${id}`;
      if (
        db.hget(rec, "status") === "pending" &&
        !db.hget(rec, "distributor") &&
        !db.exists(`${prefix}wait:${id}`)
      )
        released.push(id);
    }
    for (const key of [delayed, expiring]) {
      const first = db.zrangeByScore(key, Number.POSITIVE_INFINITY, 1)[0];
      if (first !== undefined && (next === "" || first[1] < Number(next))) next = String(first[1]);
    }
  }
  return [released, expired, next, more];
});
