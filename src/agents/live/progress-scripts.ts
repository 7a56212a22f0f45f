import { defineScript } from "../../core/store/index.js";

/** The live room's one state change (scripts/set-progress-1.lua) and its embedded-engine twin. */
export const setProgress = defineScript(import.meta.url, "set-progress-1.lua", (db, _keys, args) => {
  const out: number[] = [];
  let i = 0;
  while (i < args.length) {
    const prefix = args[i]!;
    const count = Number(args[i + 1]);
    i += 2;
    for (let k = 0; k < count; k++, i += 3) {
      const rec = `${prefix}task:${args[i]}`;
      const ok =
        db.hget(rec, "status") === "in_progress" && Number(db.hget(rec, "fence")) === Number(args[i + 1]);
      if (ok) db.hset(rec, { progress: args[i + 2]! });
      out.push(ok ? 1 : 0);
    }
  }
  return out;
});
