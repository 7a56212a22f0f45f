import { groupBy } from "../../core/group-by.js";
import { isTerminalStatus } from "../../core/state/status.js";
import type { MemoryKeyspace } from "../../core/store/index.js";
import { eachGroup, groupedScript } from "../ledger/grouped-script.js";
import type { TaskLedger, TaskRecord } from "../ledger/task-ledger.js";
import type { TaskEvent } from "../observe/task-history.js";
import { inSubmissionOrder } from "../schedule-controls/task-schedule.js";

/** The newest reassignments a record keeps (see scripts/reassigned-tasks-1.lua). */
const MAX_KEPT = 20;

/** The twin of scripts/reassigned-tasks-1.lua for the embedded engine, line for line. */
export const reassignedTasks = groupedScript(import.meta.url, "reassigned-tasks-1.lua", (db, _keys, args) => {
  const [dead, now] = args as [string, string];
  const out: number[] = [];
  eachGroup(args, 2, 2, (prefix, [id, owner]) => out.push(noteOne(db, prefix, id!, owner!, dead, now)));
  return out;
});

function noteOne(db: MemoryKeyspace, prefix: string, id: string, owner: string, dead: string, now: string) {
  if (owner !== "" && db.get(`${prefix}owner`) !== owner) return -1;
  const rec = `${prefix}task:${id}`;
  const status = db.hget(rec, "status");
  if ((status !== "pending" && status !== "in_progress") || db.hget(rec, "distributor") !== dead) return 0;
  const fence = db.hget(rec, "fence") ?? "0";
  const raw = db.hget(rec, "reassigned");
  const moves = (raw === null ? [] : JSON.parse(raw)) as string[][];
  const last = moves[moves.length - 1];
  if (last && last[1] === dead && last[2] === fence) return 2;
  const started = db.hget(rec, "started_at");
  const running = status === "in_progress" && started !== null && started !== "";
  moves.push([
    now,
    dead,
    fence,
    running ? (db.hget(rec, "attempts") ?? "0") : "",
    running ? (db.hget(rec, "assigned_to") ?? "") : "",
    running ? started : "",
  ]);
  while (moves.length > MAX_KEPT) moves.shift();
  db.hset(rec, { reassigned: JSON.stringify(moves) });
  const counts = `${prefix}end-counts`;
  db.hset(counts, { reassigned: String(Number(db.hget(counts, "reassigned") ?? 0) + 1) });
  return 1;
}

/**
 * Takes the open tasks of `dead`, a distributor declared dead, off it, in the shards whose owner
 * lease `owner(id)` gives (null: not this coordinator's): records in the store that each is
 * reassigned (reassigned-tasks-1.lua: counted in the store's end-counts and kept on its record
 * for the task page, once per distributor and fence). Answers how many tasks it held in those
 * shards, the open ones (in submission order) with whether this call recorded each (the caller tells of those),
 * and the shards it left out (not owned here, or not on this clock now: a lapsed lease);
 * a store that fails in that step records none (the tasks still move).
 */
export async function takeOff(
  ledger: TaskLedger,
  dead: string,
  owner: (taskId: string) => string | null,
): Promise<{ count: number; open: Array<{ record: TaskRecord; noted: boolean }>; skipped: number[] }> {
  const ids: string[] = [];
  const skipped = new Set<number>();
  for (const id of await ledger.distributorTaskIds(dead))
    if (owner(id) !== null) ids.push(id);
    else skipped.add(ledger.shardOf(id));
  // In submission order: placed again in this order, the distributor that takes them queues them
  // so (an assignment message reorders tasks it adopted meanwhile, see DistributorCore.onAssign).
  const records = inSubmissionOrder(await ledger.getMany(ids)).filter(
    (r): r is TaskRecord => r !== null && !isTerminalStatus(r.task.status),
  );
  // One call per shard (a grouped call stays in one slot on Redis Cluster; a death is rare).
  const byShard = groupBy(records, (r) => ledger.shardOf(r.task.task_id));
  const noted = new Set<string>();
  await Promise.all(
    [...byShard.values()].map(async (group) => {
      const reply = await ledger
        .grouped(
          reassignedTasks,
          [dead, Date.now()],
          group,
          (r) => r.task.task_id,
          (r, args) => args.push(r.task.task_id, owner(r.task.task_id) ?? ""),
        )
        .catch(() => []);
      group.forEach((r, i) => {
        if (reply[i] === 1) noted.add(r.task.task_id);
      });
    }),
  );
  return {
    count: ids.length,
    open: records.map((record) => ({ record, noted: noted.has(record.task.task_id) })),
    skipped: [...skipped].sort((a, b) => a - b),
  };
}

/** Whether `step` resolves (true) or rejects (false). */
export function succeeds(step: Promise<unknown>): Promise<boolean> {
  return step.then(
    () => true,
    () => false,
  );
}

/**
 * The end of the retry backoff a pending task's record keeps (epoch ms), null for none: moved off
 * its distributor, it is placed once that is over (Placement.hold), as its holder would have run it.
 * An in-progress task's `not_before` is an earlier retry's, over.
 */
export function backoffOf(record: TaskRecord): number | null {
  return record.task.status === "pending" ? record.notBefore : null;
}

/**
 * A record's reassignments as the task page's events (null when the record keeps none: a store
 * of an earlier release; the page then shows what this coordinator saw itself).
 */
export function reassignedEvents(raw: string | undefined): TaskEvent[] | null {
  if (raw === undefined || raw === "") return null;
  let moves: unknown;
  try {
    moves = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!Array.isArray(moves)) return null;
  return moves.flatMap((m): TaskEvent[] => {
    if (!Array.isArray(m) || m.length < 6) return [];
    const [t, from, , attempt, worker, startedAt] = m.map(String) as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const at = new Date(Number(t));
    if (Number.isNaN(at.getTime())) return [];
    const event: TaskEvent = { event: "reassigned", at: at.toISOString(), distributor: from };
    if (startedAt !== "" && Number(attempt) > 0) {
      event.attempt = Number(attempt);
      event.worker = worker || null;
      event.started_at = startedAt;
    }
    return [event];
  });
}
