import { defineScript } from "../../core/store/index.js";
import { abandonOpen, defineOpenScript } from "../ledger/open-index.js";

/**
 * The atomic steps of human input (each Lua file documents its KEYS, ARGV and replies); the
 * functions here are their twins for the embedded engine, line for line. The step that makes a
 * task wait is the ledger's commit (commit-results-1.lua, outcome input_required).
 */

export const provideInput = defineScript(import.meta.url, "provide-input-1.lua", (db, _keys, args) => {
  const [prefix, id, value, question, maxBytes] = args as [string, string, string, string, string];
  const rec = `${prefix}task:${id}`;
  const status = db.hget(rec, "status");
  if (status === null) return 0;
  if (status !== "input_required") return status;
  const given = Number(db.hget(rec, "inputs_n") ?? 0);
  if (question !== "" && Number(question) !== given) return "other_question";
  if (maxBytes !== "") {
    let bytes = Buffer.byteLength(value) + 1;
    for (const [field, v] of Object.entries(db.hgetall(rec)))
      bytes += Buffer.byteLength(field) + Buffer.byteLength(v);
    if (bytes > Number(maxBytes)) return ["too_large", bytes];
  }
  const inputs = db.hget(rec, "inputs");
  const next =
    inputs === null || inputs === "" || inputs === "[]" ? `[${value}]` : `${inputs.slice(0, -1)},${value}]`;
  db.hset(rec, {
    status: "pending",
    inputs: next,
    inputs_n: String(given + 1),
    answered_key: db.hget(rec, "input_key") ?? "",
  });
  db.hdel(rec, "input_request");
  db.hdel(rec, "input_key");
  db.hdel(rec, "not_before");
  db.zrem(`${prefix}input_due`, id);
  return 1;
});

export const expireInputs = defineOpenScript(import.meta.url, "expire-inputs-1.lua", (db, _keys, args) => {
  const [completedAt, retentionMs, limit] = args as [string, string, string];
  const now = db.timeMs();
  const out: string[] = [];
  let waiting = 0;
  for (const prefix of args.slice(3)) {
    const due = `${prefix}input_due`;
    for (const [id] of db.zrangeByScore(due, now, Number(limit))) {
      db.zrem(due, id);
      const rec = `${prefix}task:${id}`;
      if (db.hget(rec, "status") !== "input_required") continue;
      const timeout = db.hget(rec, "input_timeout_ms") ?? "86400000";
      const reason = `no input was given within ${timeout} ms (input_timeout_ms)`;
      abandonOpen(db, prefix, id, db.hget(rec, "distributor"), reason, completedAt, retentionMs);
      out.push(id);
    }
    waiting += db.zcard(due);
  }
  return [out, waiting];
});
