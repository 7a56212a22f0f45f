import { readFileSync } from "node:fs";
import type { MemoryKeyspace, ScriptReply } from "../../core/store/index.js";
import { defineScript, withPrelude } from "../../core/store/index.js";

/**
 * The recurring schedules' atomic steps. Each Lua file documents its KEYS, ARGV and replies;
 * the functions here are their twins for the embedded engine, line for line.
 */

export const upsertSchedule = defineScript(import.meta.url, "upsert-schedule-1.lua", (db, [def], args) => {
  const [prefix, id, spec, next, max] = args as [string, string, string, string, string | undefined];
  const old = db.hget(def!, id);
  if (old === spec) return 0;
  if (max !== undefined && old === null && db.hlen(def!) >= Number(max)) return -1;
  db.hset(def!, { [id]: spec });
  db.zadd(`${prefix}next`, Number(next), id);
  db.zadd(`${prefix}ids`, 0, id);
  return old !== null ? 2 : 1;
});

export const removeSchedule = defineScript(import.meta.url, "remove-schedule-1.lua", (db, [def], args) => {
  const [prefix, id] = args as [string, string];
  db.zrem(`${prefix}next`, id);
  db.zrem(`${prefix}ids`, id);
  db.hdel(`${prefix}last`, id);
  db.del(`${prefix}recent:${id}`);
  return db.hdel(def!, id);
});

export const dueSchedules = defineScript(import.meta.url, "due-schedules-1.lua", (db, [def], args) => {
  const [prefix, max] = args as [string, string];
  const now = db.timeMs();
  const due: ScriptReply[] = [];
  for (const [id, score] of db.zrangeByScore(`${prefix}next`, now, Number(max))) {
    const spec = db.hget(def!, id);
    if (spec !== null) due.push([id, String(score), spec]);
  }
  const ahead = db.zrangeByScore(`${prefix}next`, Number.POSITIVE_INFINITY).find(([, score]) => score > now);
  return [now, ahead === undefined ? -1 : ahead[1], due];
});

export const advanceSchedule = defineScript(import.meta.url, "advance-schedule-1.lua", (db, [def], args) => {
  const [prefix, id, read, next, taskId, tick, keep] = args as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (db.hget(def!, id) === null || db.zscore(`${prefix}next`, id) !== Number(read)) return 0;
  db.zadd(`${prefix}next`, Number(next), id);
  db.hset(`${prefix}last`, { [id]: tick });
  const key = `${prefix}recent:${id}`;
  const raw = db.get(key);
  const recent = [taskId, ...(raw === null ? [] : (JSON.parse(raw) as string[]))].slice(0, Number(keep));
  db.set(key, JSON.stringify(recent));
  return 1;
});

/** Lua's schedule_row (scripts/schedule-row.lua), prepended to read-schedules and page-schedules. */
const SCHEDULE_ROW_LUA = readFileSync(new URL("./scripts/schedule-row.lua", import.meta.url), "utf8");

/** One schedule's row as read-schedules and page-schedules answer it (schedule_row's twin). */
function scheduleRow(db: MemoryKeyspace, def: string, prefix: string, id: string): ScriptReply | null {
  const spec = db.hget(def, id);
  if (spec === null) return null;
  return [
    id,
    spec,
    String(db.zscore(`${prefix}next`, id) ?? ""),
    db.hget(`${prefix}last`, id) ?? "",
    db.get(`${prefix}recent:${id}`) ?? "",
  ];
}

export const readSchedules = withPrelude(
  defineScript(import.meta.url, "read-schedules-1.lua", (db, [def], args) => {
    const prefix = args[0]!;
    const out: ScriptReply[] = [];
    for (const id of args.slice(1)) {
      const row = scheduleRow(db, def!, prefix, id);
      if (row !== null) out.push(row);
    }
    return out;
  }),
  SCHEDULE_ROW_LUA,
);

export const pageSchedules = withPrelude(
  defineScript(import.meta.url, "page-schedules-1.lua", (db, [def], args) => {
    const [prefix, cursor, max, maxBytes] = args as [string, string, string, string];
    const ids = `${prefix}ids`;
    if (db.zcard(ids) !== db.hlen(def!)) {
      db.del(ids);
      for (const id of Object.keys(db.hgetall(def!))) db.zadd(ids, 0, id);
    }
    const limit = Number(max);
    const page = db.zrangeByLex(ids, cursor === "" ? null : cursor, limit + 1);
    let nextCursor = "";
    const out: ScriptReply[] = [];
    let bytes = 0;
    for (const [i, id] of page.entries()) {
      if (i >= limit) {
        nextCursor = page[i - 1]!;
        break;
      }
      const row = scheduleRow(db, def!, prefix, id);
      if (row === null) continue;
      // Lua's # of a string: its bytes.
      const size = (row as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
      if (out.length > 0 && bytes + size > Number(maxBytes)) {
        nextCursor = page[i - 1]!;
        break;
      }
      bytes += size;
      out.push(row);
    }
    return [nextCursor, out];
  }),
  SCHEDULE_ROW_LUA,
);
