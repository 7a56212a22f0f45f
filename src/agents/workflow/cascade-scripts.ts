import type { MemoryKeyspace } from "../../core/store/index.js";
import { defineScript } from "../../core/store/index.js";
import { eachGroup, groupedScript } from "../ledger/grouped-script.js";
import { abandonOpen, defineOpenScript } from "../ledger/open-index.js";
import { shardOf, shardTag } from "../ledger/shards.js";

/**
 * The cancel cascade's atomic steps (each Lua file documents its KEYS, ARGV and replies); the
 * functions here are their twins for the embedded engine, line for line.
 */

const isMarked = (db: MemoryKeyspace, rec: string) => db.hget(rec, "canceled") !== null;

export const markCanceled = groupedScript(import.meta.url, "mark-canceled-1.lua", (db, _keys, args) => {
  const out: number[] = [];
  eachGroup(args, 0, 3, (prefix, [id, reason, parent]) => {
    const rec = `${prefix}task:${id}`;
    if (!db.exists(rec) || isMarked(db, rec)) {
      out.push(0);
      return;
    }
    if (parent !== "" && db.hget(rec, "parent_id") !== parent) {
      out.push(0);
      return;
    }
    db.hset(rec, { canceled: reason! });
    db.sadd(`${prefix}cascade`, id!);
    out.push(1);
  });
  return out;
});

export const cascadeFrontier = groupedScript(import.meta.url, "cascade-frontier-1.lua", (db, _keys, args) => {
  const op = args[0];
  const out: number[] = [];
  eachGroup(args, 1, 1, (prefix, [id]) => {
    if (op === "done") out.push(db.srem(`${prefix}cascade`, id!));
    else if (isMarked(db, `${prefix}task:${id}`)) {
      db.sadd(`${prefix}cascade`, id!);
      out.push(1);
    } else out.push(0);
  });
  return out;
});

export const cascadeMembers = defineScript(import.meta.url, "cascade-members-1.lua", (db, [set], [count]) =>
  db.smembers(set!).slice(0, Number(count)),
);

const OPEN_STATUSES = new Set(["pending", "in_progress", "input_required"]);

/** The ids a task spawned, from its `spawned` and `spawn` fields (see spawned_ids in the Lua). */
function spawnedOf(spawned: string | null, spawn: string | null): string[] {
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  const recorded = spawned === null ? null : parse(spawned);
  if (Array.isArray(recorded) && recorded.length > 0) return recorded.filter((id) => typeof id === "string");
  const listed = spawn === null ? null : parse(spawn);
  if (!Array.isArray(listed)) return [];
  return listed
    .map((t) => (t !== null && typeof t === "object" ? (t as { task_id?: unknown }).task_id : undefined))
    .filter((id): id is string => typeof id === "string");
}

export const cascadeWalk = defineOpenScript(import.meta.url, "cascade-walk-1.lua", (db, _keys, args) => {
  const [base, shardsText, only, completedAt, retentionMs, limitText] = args as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const shards = Number(shardsText);
  const prefixOf = (id: string): string | null => {
    const shard = shardOf(id, shards);
    if (only !== "" && String(shard) !== only) return null;
    return `${base}${shardTag(shard)}`;
  };
  const queue: string[] = [];
  const ended: string[][] = [];
  const foreign: string[] = [];
  const held: string[] = [];
  const mark = (prefix: string, id: string, reason: string, parent: string): boolean => {
    const rec = `${prefix}task:${id}`;
    if (!db.exists(rec) || isMarked(db, rec)) return false;
    if (parent !== "" && db.hget(rec, "parent_id") !== parent) return false;
    db.hset(rec, { canceled: reason });
    db.sadd(`${prefix}cascade`, id);
    return true;
  };
  const reach = (id: string, reason: string, parent: string): boolean => {
    const prefix = prefixOf(id);
    if (prefix === null) {
      foreign.push(id, reason, parent);
      return false;
    }
    if (mark(prefix, id, reason, parent)) queue.push(id);
    return true;
  };
  const abandon = (prefix: string, id: string, dist: string | null, reason: string) => {
    abandonOpen(db, prefix, id, dist, reason, completedAt, retentionMs);
    ended.push([id, ...Object.entries(db.hgetall(`${prefix}task:${id}`)).flat()]);
  };
  const visit = (prefix: string, id: string) => {
    const rec = `${prefix}task:${id}`;
    const status = db.hget(rec, "status");
    const canceled = db.hget(rec, "canceled");
    let byCancel = canceled !== null && status === "abandoned" && db.hget(rec, "error") === canceled;
    if (canceled !== null && status !== null && OPEN_STATUSES.has(status)) {
      abandon(prefix, id, db.hget(rec, "distributor"), canceled);
      byCancel = true;
    }
    let handed = false;
    if (byCancel) {
      for (const d of db.smembers(`${prefix}dependents:${id}`))
        if (!reach(d, `dependency ${id} abandoned`, "")) handed = true;
    }
    if (status !== null) {
      for (const c of spawnedOf(db.hget(rec, "spawned"), db.hget(rec, "spawn")))
        if (!reach(c, `parent ${id} canceled`, id)) handed = true;
    }
    if (handed) held.push(id);
    else db.srem(`${prefix}cascade`, id);
  };
  for (let i = 6; i < args.length; i += 3) {
    if (args[i + 1] === "") queue.push(args[i]!);
    else reach(args[i]!, args[i + 1]!, args[i + 2]!);
  }
  let walked = 0;
  let head = 0;
  const limit = Number(limitText);
  while (head < queue.length && walked < limit) {
    const id = queue[head++]!;
    const prefix = prefixOf(id);
    if (prefix !== null) {
      visit(prefix, id);
      walked++;
    }
  }
  return [walked, ended, queue.slice(head), foreign, held];
});
