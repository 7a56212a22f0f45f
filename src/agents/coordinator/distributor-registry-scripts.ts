import { defineScript } from "../../core/store/index.js";

/** The twin of scripts/distributor-registry-3.lua for the embedded engine, line for line. */
export const distributorRegistry = defineScript(
  import.meta.url,
  "distributor-registry-3.lua",
  (db, [key, marks, types], [op, ...args]) => {
    if (op === "read") return Object.keys(db.hgetall(marks!));
    if (op === "read-types") return Object.entries(db.hgetall(types!)).flat();
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
