import { defineScript } from "../../core/store/script.js";

/** count-delayed-1.lua (reads only) and its embedded-engine twin. */
export const countDelayed = defineScript(import.meta.url, "count-delayed-1.lua", (db, _keys, args) => {
  let n = 0;
  for (const prefix of args) n += db.zcard(`${prefix}delayed`);
  return n;
});
