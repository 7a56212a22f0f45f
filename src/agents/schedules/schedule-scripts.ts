import type { ScriptReply } from "../../core/store/index.js";
import { defineScript } from "../../core/store/index.js";

/**
 * The recurring schedules' atomic steps. Each Lua file documents its KEYS, ARGV and replies;
 * the functions here are their twins for the embedded engine, line for line.
 */

export const upsertSchedule = defineScript(import.meta.url, "upsert-schedule-1.lua", (db, [def], args) => {
  const [prefix, id, spec, next] = args as [string, string, string, string];
  const old = db.hget(def!, id);
  if (old === spec) return 0;
  db.hset(def!, { [id]: spec });
  db.zadd(`${prefix}next`, Number(next), id);
  return old !== null ? 2 : 1;
});

export const removeSchedule = defineScript(import.meta.url, "remove-schedule-1.lua", (db, [def], args) => {
  const [prefix, id] = args as [string, string];
  db.zrem(`${prefix}next`, id);
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

export const readSchedules = defineScript(import.meta.url, "read-schedules-1.lua", (db, [def], args) => {
  const prefix = args[0]!;
  const ids = args.length > 1 ? args.slice(1) : Object.keys(db.hgetall(def!));
  const out: ScriptReply[] = [];
  for (const id of ids) {
    const spec = db.hget(def!, id);
    if (spec === null) continue;
    out.push([
      id,
      spec,
      String(db.zscore(`${prefix}next`, id) ?? ""),
      db.hget(`${prefix}last`, id) ?? "",
      db.get(`${prefix}recent:${id}`) ?? "",
    ]);
  }
  return out;
});
