import { groupBy } from "../../core/group-by.js";
import type { MemoryKeyspace } from "../../core/store/index.js";
import { eachGroup, groupedScript } from "../ledger/grouped-script.js";
import type { TaskLedger } from "../ledger/task-ledger.js";

/**
 * Moves of one task by hand-back at most (the record's `handed_back`): a worker's types that
 * change under it (a flapping worker on each side) cannot have a task go back and forth for ever.
 * Past it, the holder keeps it, as before hand-backs.
 */
export const MAX_HAND_BACKS = 3;

/** The twin of scripts/hand-back-tasks-1.lua for the embedded engine, line for line. */
export const handBackTasks = groupedScript(import.meta.url, "hand-back-tasks-1.lua", (db, _keys, args) => {
  const [from, to, max] = args as [string, string, string];
  const out: number[] = [];
  eachGroup(args, 3, 2, (prefix, [id, owner]) =>
    out.push(moveOne(db, prefix, id!, owner!, from, to, Number(max))),
  );
  return out;
});

function moveOne(
  db: MemoryKeyspace,
  prefix: string,
  id: string,
  owner: string,
  from: string,
  to: string,
  max: number,
): number {
  if (owner !== "" && db.get(`${prefix}owner`) !== owner) return -1;
  const rec = `${prefix}task:${id}`;
  if (
    db.hget(rec, "status") !== "pending" ||
    db.hget(rec, "distributor") !== from ||
    db.exists(`${prefix}wait:${id}`)
  )
    return 0;
  const moves = Number(db.hget(rec, "handed_back") ?? 0) || 0;
  if (moves >= max) return 0;
  db.srem(`${prefix}dist:${from}`, id);
  db.hset(rec, { distributor: to, handed_back: String(moves + 1) });
  db.sadd(`${prefix}dist:${to}`, id);
  return 1;
}

/**
 * Moves `tasks` (each with the shard owner's lease value the caller holds: "" for no check),
 * handed back by `from`, to `to` (hand-back-tasks-1.lua): one call per shard (a grouped call
 * stays in one slot on Redis Cluster). Resolves with whether each moved, in order.
 */
export async function moveHandedBack(
  ledger: TaskLedger,
  from: string,
  to: string,
  tasks: Array<{ id: string; owner: string }>,
): Promise<boolean[]> {
  const byShard = groupBy(tasks.keys(), (k) => ledger.shardOf(tasks[k]!.id));
  const out = tasks.map(() => false);
  await Promise.all(
    [...byShard.values()].map(async (ks) => {
      const reply = await ledger.grouped(
        handBackTasks,
        [from, to, MAX_HAND_BACKS],
        ks,
        (k) => tasks[k]!.id,
        (k, args) => args.push(tasks[k]!.id, tasks[k]!.owner),
      );
      ks.forEach((k, i) => {
        out[k] = reply[i] === 1;
      });
    }),
  );
  return out;
}
