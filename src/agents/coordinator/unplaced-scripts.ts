import type { MemoryKeyspace } from "../../core/store/index.js";
import { eachGroup, groupedScript } from "../ledger/grouped-script.js";
import { defineOpenScript, OPEN_BUCKETS } from "../ledger/open-index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";

/**
 * What assign-unplaced-1.lua answered for a task: placed, not placeable, held by another
 * distributor already (`heldBy`), held by the one asked already ("here": placed by an earlier
 * call whose answer was lost, or by another path), or the shard's fence refused it.
 */
export type UnplacedAssign = "placed" | "not-open" | { heldBy: string } | "here" | "fenced";
const ANSWERS: Record<number, UnplacedAssign> = {
  1: "placed",
  0: "not-open",
  3: "here",
  [-1]: "fenced",
};

/** The twin of scripts/assign-unplaced-1.lua for the embedded engine, line for line. */
export const assignUnplaced = groupedScript(import.meta.url, "assign-unplaced-1.lua", (db, _keys, args) => {
  const dist = args[0]!;
  const out: Array<number | string> = [];
  eachGroup(args, 1, 2, (prefix, [id, owner]) => {
    if (owner !== "" && db.get(`${prefix}owner`) !== owner) {
      out.push(-1);
      return;
    }
    const rec = `${prefix}task:${id}`;
    if (db.hget(rec, "status") !== "pending" || db.exists(`${prefix}wait:${id}`)) {
      out.push(0);
      return;
    }
    const held = db.hget(rec, "distributor");
    if (held !== null && held !== "") {
      out.push(held === dist ? 3 : held);
      return;
    }
    db.hset(rec, { distributor: dist });
    db.sadd(`${prefix}dist:${dist}`, id!);
    out.push(1);
  });
  return out;
});

/** The twin of scripts/unplaced-tasks-1.lua for the embedded engine, line for line. */
export const unplacedTasks = defineOpenScript(import.meta.url, "unplaced-tasks-1.lua", (db, _keys, args) => {
  const [prefix, cursor, rawBudget] = args as [string, string, string];
  const budget = Number(rawBudget) || 1000;
  const out: Array<string | number> = ["", 0];
  let seen = 0;
  const look = (id: string) => {
    seen++;
    const dist = db.hget(`${prefix}task:${id}`, "distributor");
    if (
      db.hget(`${prefix}task:${id}`, "status") === "pending" &&
      (dist === null || dist === "") &&
      !db.exists(`${prefix}wait:${id}`) &&
      db.zscore(`${prefix}delayed`, id) === null
    )
      out.push(id);
  };
  if (cursor === "s") {
    for (const id of db.smembers(`${prefix}open`)) look(id);
    out[1] = seen;
    return out;
  }
  let place = Number(cursor) || 0;
  const depth = depthOf(db, prefix);
  let first = 0;
  for (let level = 0; level <= depth; level++) {
    const n = OPEN_BUCKETS[level]!;
    while (place < first + n) {
      for (const id of Object.keys(db.hgetall(`${prefix}open:${level}:${place - first}`))) look(id);
      place++;
      if (seen >= budget) {
        out[0] = place < first + n || level < depth ? String(place) : "s";
        out[1] = seen;
        return out;
      }
    }
    first += n;
  }
  out[0] = "s";
  out[1] = seen;
  return out;
});

function depthOf(db: MemoryKeyspace, prefix: string): number {
  return Number(db.get(`${prefix}open:depth`) ?? 0) || 0;
}

/**
 * Places each of `items` (a task seen on no distributor, with the owner lease value of its shard
 * held here) on `distributorId` only if it is still pending on no distributor and waiting on
 * nothing (assign-unplaced-1.lua): one call per shard, each task placed told to the ledger's
 * observer ("assigned"). Answers in `items`' order.
 */
export async function assignIfUnplaced(
  ledger: TaskLedger,
  distributorId: string,
  items: Array<{ taskId: string; owner: string }>,
): Promise<UnplacedAssign[]> {
  const byShard = new Map<number, Array<{ k: number; taskId: string; owner: string }>>();
  items.forEach((item, k) => {
    const shard = ledger.shardOf(item.taskId);
    const group = byShard.get(shard);
    if (group === undefined) byShard.set(shard, [{ k, ...item }]);
    else group.push({ k, ...item });
  });
  const out = new Array<UnplacedAssign>(items.length);
  await Promise.all(
    [...byShard.values()].map(async (group) => {
      const reply = await ledger.grouped(
        assignUnplaced,
        [distributorId],
        group,
        (g) => g.taskId,
        (g, args) => args.push(g.taskId, g.owner),
      );
      group.forEach((g, j) => {
        const r = reply[j];
        out[g.k] = typeof r === "string" ? { heldBy: r } : (ANSWERS[Number(r)] ?? "not-open");
        // The ledger's observer hears of it as of any placement (TaskLedger.assign).
        if (out[g.k] === "placed")
          ledger.told({ op: "assigned", task_id: g.taskId, distributor: distributorId });
      });
    }),
  );
  return out;
}
