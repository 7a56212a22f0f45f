import { defineScript } from "../../core/store/index.js";

/** Lua's table.sort order for strings (byte by byte; ids are ASCII in practice, compared by code unit here). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The twin of scripts/distributor-registry-3.lua for the embedded engine, line for line. */
export const distributorRegistry = defineScript(
  import.meta.url,
  "distributor-registry-3.lua",
  (db, [key, marks, types], [op, ...args]) => {
    if (op === "read") return Object.keys(db.hgetall(marks!));
    if (op === "read-types") return Object.entries(db.hgetall(types!)).flat();
    if (op === "prune-types") {
      const raw = db.get(key!);
      const registry = (raw === null ? {} : JSON.parse(raw)) as Record<string, string | null>;
      const [max, ...seen] = args as [string, ...string[]];
      for (const id of seen) if (!Object.hasOwn(registry, id)) db.hdel(types!, id);
      const stale = Object.keys(db.hgetall(types!)).filter((id) => !Object.hasOwn(registry, id));
      stale.sort(byteOrder);
      return stale.slice(0, Math.max(0, Number(max) || 0));
    }
    if (op === "types") {
      const [id, list] = args as [string, string];
      if (list === "") db.hdel(types!, id);
      else db.hset(types!, { [id]: list });
      return 1;
    }
    const raw = db.get(key!);
    const registry = (raw === null ? {} : JSON.parse(raw)) as Record<string, string | null>;
    if (op === "forget") {
      for (const id of args) {
        delete registry[id];
        db.hdel(marks!, id);
        db.hdel(types!, id);
      }
    } else {
      const [id, url, none, when] = args as [string, string, string, string];
      const entry = none === "1" ? null : url;
      if (op === "add") {
        registry[id] = entry;
        db.hdel(marks!, id);
      } else {
        if (registry[id] === undefined) registry[id] = entry;
        db.hset(marks!, { [id]: when });
      }
    }
    db.set(key!, JSON.stringify(registry));
    return 1;
  },
);
