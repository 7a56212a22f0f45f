import { defineScript } from "../../core/store/index.js";

/** The twin of scripts/shard-lease-2.lua for the embedded engine, line for line. */
export const shardLease = defineScript(
  import.meta.url,
  "shard-lease-2.lua",
  (db, [lease, fence], [op, owner, held, ttl]) => {
    const current = db.get(lease!);
    if (op === "acquire") {
      if (current !== null && !current.startsWith(`${owner}#`)) return "";
      const token = db.incrBy(fence!, 1);
      const value = `${owner}#${token}`;
      db.set(lease!, value, { px: Number(ttl) });
      return value;
    }
    if (op === "renew" && current === null) {
      const mine = `${owner}#`;
      const token = held!.startsWith(mine) ? held!.slice(mine.length) : "";
      const counter = db.get(fence!);
      if (token === "" || counter === null || Number(token) !== Number(counter)) return 0;
      db.set(lease!, held!, { px: Number(ttl) });
      return 1;
    }
    if (current !== held) return 0;
    if (op === "renew") db.pexpire(lease!, Number(ttl));
    else db.del(lease!);
    return 1;
  },
);
