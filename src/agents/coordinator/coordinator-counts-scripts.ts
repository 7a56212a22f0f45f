import { defineScript } from "../../core/store/index.js";

/** The twin of scripts/coordinator-counts-1.lua for the embedded engine, line for line. */
export const coordinatorCounts = defineScript(
  import.meta.url,
  "coordinator-counts-1.lua",
  (db, [key], [op, ...args]) => {
    if (op === "write") {
      const [field, counts, first] = args as [string, string, string];
      if (first !== "1" && db.hget(key!, field) === null) return 0;
      db.hset(key!, { [field]: counts });
      return 1;
    }
    if (op === "read") return Object.entries(db.hgetall(key!)).flat();
    const raw = db.hget(key!, "retired");
    const sum = (raw === null ? {} : JSON.parse(raw)) as Record<string, number>;
    let n = 0;
    for (const field of args) {
      const counts = field !== "retired" && db.hget(key!, field);
      if (!counts) continue;
      for (const [k, v] of Object.entries(JSON.parse(counts) as Record<string, unknown>))
        if (typeof v === "number") sum[k] = (sum[k] ?? 0) + v;
      db.hdel(key!, field);
      n++;
    }
    if (n > 0) db.hset(key!, { retired: JSON.stringify(sum) });
    return n;
  },
);
