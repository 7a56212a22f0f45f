import type { MemoryKeyspace } from "../../core/store/index.js";
import { defineScript } from "../../core/store/index.js";
import { eachGroup, groupedScript } from "../ledger/grouped-script.js";

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
