import { eachGroup, groupedScript } from "../ledger/grouped-script.js";

/** The live room's one state change (scripts/set-progress-1.lua) and its embedded-engine twin. */
export const setProgress = groupedScript(import.meta.url, "set-progress-1.lua", (db, _keys, args) => {
  const out: number[] = [];
  eachGroup(args, 0, 3, (prefix, [id, fence, value]) => {
    const rec = `${prefix}task:${id}`;
    const ok = db.hget(rec, "status") === "in_progress" && Number(db.hget(rec, "fence")) === Number(fence);
    if (ok) db.hset(rec, { progress: value! });
    out.push(ok ? 1 : 0);
  });
  return out;
});
