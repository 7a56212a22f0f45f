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
  db.hset(`${prefix}next`, { [id]: next });
  return old !== null ? 2 : 1;
});

export const removeSchedule = defineScript(import.meta.url, "remove-schedule-1.lua", (db, [def], args) => {
  const [prefix, id] = args as [string, string];
  db.hdel(`${prefix}next`, id);
  db.hdel(`${prefix}last`, id);
  db.del(`${prefix}recent:${id}`);
  return db.hdel(def!, id);
});

export const dueSchedules = defineScript(import.meta.url, "due-schedules-1.lua", (db, [def], args) => {
  const [prefix, max] = args as [string, string];
  const now = db.timeMs();
  const due: ScriptReply[] = [];
  let earliest = -1;
  for (const [id, raw] of Object.entries(db.hgetall(`${prefix}next`))) {
    const at = Number(raw);
    if (at <= now) {
      if (due.length < Number(max)) {
        const spec = db.hget(def!, id);
        if (spec !== null) due.push([id, raw, spec]);
      }
    } else if (earliest === -1 || at < earliest) earliest = at;
  }
  return [now, earliest, due];
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
  if (db.hget(def!, id) === null || db.hget(`${prefix}next`, id) !== read) return 0;
  db.hset(`${prefix}next`, { [id]: next });
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
      db.hget(`${prefix}next`, id) ?? "",
      db.hget(`${prefix}last`, id) ?? "",
      db.get(`${prefix}recent:${id}`) ?? "",
    ]);
  }
  return out;
});
