import { describe, expect, it } from "vitest";
import {
  assignIfUnplaced,
  assignUnplaced,
  unplacedTasks,
} from "../../src/agents/coordinator/unplaced-scripts.js";
import { shardTag } from "../../src/agents/ledger/shards.js";
import type { LedgerEvent } from "../../src/agents/ledger/task-ledger.js";
import { TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import type { RedisClient } from "../../src/index.js";
import {
  dump,
  ENGINES,
  fakeClock,
  onBoth,
  realClock,
  twinStoresOfFile,
} from "../helpers/fuzz/twin-stores.js";

/**
 * The unplaced sweep's scripts against their memory:// twins (src/agents/coordinator/unplaced-scripts.ts):
 * unplaced-tasks-1.lua walked over a shard of tasks in every state the sweep must tell apart
 * (unplaced, placed, waiting on a dependency, delayed, ended, an id too long for the index's
 * buckets) with budgets that stop it mid-level, and assign-unplaced-1.lua on each of them. The
 * answers, cursors and the raw keyspace afterwards must be the same on both engines.
 */
const stores = twinStoresOfFile();

const AHEAD = Date.UTC(2040, 0, 1);

function kindOf(i: number): "unplaced" | "placed" | "waiting" | "delayed" | "ended" {
  return (["unplaced", "placed", "waiting", "delayed", "ended"] as const)[i % 5]!;
}

async function seed(ledger: TaskLedger, ids: string[]): Promise<void> {
  const base = {
    taskType: "step",
    payload: {},
    createdAt: "2031-01-01T00:00:00.000Z",
    maxRetries: 2,
    backoffMs: 200,
  };
  for (const [i, id] of ids.entries()) {
    const kind = kindOf(i);
    if (kind === "placed") await ledger.submit({ ...base, taskId: id }, "d1");
    else if (kind === "waiting") await ledger.submit({ ...base, taskId: id, dependsOn: ["missing-dep"] });
    else if (kind === "delayed")
      await ledger.submit({
        ...base,
        taskId: id,
        schedule: { run_at: new Date(AHEAD).toISOString() },
        delayUntil: AHEAD,
      });
    else await ledger.submit({ ...base, taskId: id });
    if (kind === "ended") await ledger.abandon(id, "test");
  }
}

/** Walks the shard's index with `budget`: each step's cursor, ids looked at, and found ids (sorted). */
async function walk(client: RedisClient, budget: number): Promise<Array<[string, number, string[]]>> {
  const steps: Array<[string, number, string[]]> = [];
  let cursor = "";
  do {
    const reply = (await client.runScript(
      unplacedTasks,
      [`${shardTag(0)}open`],
      [client.key(shardTag(0)), cursor, budget],
    )) as Array<string | number>;
    cursor = String(reply[0]);
    steps.push([cursor, Number(reply[1]), reply.slice(2).map(String).sort()]);
  } while (cursor !== "" && steps.length < 10_000);
  return steps;
}

describe("the unplaced sweep's scripts on both engines", () => {
  it("walk and place alike", async () => {
    fakeClock();
    const { clients } = await stores.open("engine-twins-unplaced");
    try {
      const ids = Array.from({ length: 150 }, (_, i) => `t-${i}`);
      ids.push(`long-${"x".repeat(70)}`, `long-${"y".repeat(70)}`);
      const ledgers = {
        memory: new TaskLedger(clients.memory, { shards: 1 }),
        redis: new TaskLedger(clients.redis, { shards: 1 }),
      };
      await onBoth(ledgers, (l) => seed(l, ids));
      const expected = ids.filter((_, i) => kindOf(i) === "unplaced").sort();
      for (const budget of [1, 7, 1000]) {
        const walks = await onBoth(clients, (c) => walk(c, budget));
        expect(walks.memory, `budget ${budget}`).toEqual(walks.redis);
        const found = (walks.memory as Array<[string, number, string[]]>).flatMap(([, , f]) => f).sort();
        expect(found, `budget ${budget}`).toEqual(expected);
        const seen = (walks.memory as Array<[string, number, string[]]>).reduce((n, [, s]) => n + s, 0);
        expect(seen, `budget ${budget}: every open id looked at once`).toBe(
          ids.filter((_, i) => kindOf(i) !== "ended").length,
        );
      }
      // One of each kind, an unknown id, then the same again (placed on d2 by the first call now).
      const probe = [ids[0]!, ids[1]!, ids[2]!, ids[3]!, ids[4]!, ids[150]!, "unknown"];
      for (const round of [1, 2]) {
        const answers = await onBoth(ledgers, (l) =>
          l.grouped(
            assignUnplaced,
            ["d2"],
            probe,
            (id) => id,
            (id, args) => args.push(id, ""),
          ),
        );
        expect(answers.memory, `round ${round}`).toEqual(answers.redis);
        expect(answers.memory, `round ${round}`).toEqual(
          // Round 2: those placed on d2 by round 1 are found there (3), not on another (its id).
          round === 1 ? [1, "d1", 0, 1, 0, 1, 0] : [3, "d1", 0, 3, 0, 3, 0],
        );
      }
      // A lease value that is not the shard's owner: refused, nothing written.
      const fenced = await onBoth(ledgers, (l) =>
        l.grouped(
          assignUnplaced,
          ["d3"],
          [ids[5]!],
          (id) => id,
          (id, args) => args.push(id, "not-the-owner"),
        ),
      );
      expect(fenced).toEqual({ memory: [-1], redis: [-1] });
      const dumps = await onBoth(clients, (c) => dump(c));
      expect(dumps.memory).toEqual(dumps.redis);
    } finally {
      await Promise.all(ENGINES.map((e) => clients[e].disconnect()));
      realClock();
    }
  }, 60_000);

  it("tells the ledger's observer of each task placed, as an assign does", async () => {
    fakeClock();
    const { clients } = await stores.open("engine-twins-unplaced-told");
    try {
      const told: Record<string, LedgerEvent[]> = { memory: [], redis: [] };
      const ledgers = {
        memory: new TaskLedger(clients.memory, { observer: (e) => told.memory!.push(e) }),
        redis: new TaskLedger(clients.redis, { observer: (e) => told.redis!.push(e) }),
      };
      const base = {
        taskType: "step",
        payload: {},
        createdAt: "2031-01-01T00:00:00.000Z",
        maxRetries: 2,
        backoffMs: 200,
      };
      await onBoth(ledgers, async (l) => {
        await l.submit({ ...base, taskId: "free" });
        await l.submit({ ...base, taskId: "taken" }, "d1");
      });
      const answers = await onBoth(ledgers, (l) =>
        assignIfUnplaced(l, "d2", [
          { taskId: "free", owner: "" },
          { taskId: "taken", owner: "" },
        ]),
      );
      expect(answers).toEqual({
        memory: ["placed", { heldBy: "d1" }],
        redis: ["placed", { heldBy: "d1" }],
      });
      for (const engine of ENGINES)
        expect(told[engine]!.filter((e) => e.op === "assigned")).toEqual([
          { op: "assigned", task_id: "free", distributor: "d2" },
        ]);
    } finally {
      await Promise.all(ENGINES.map((e) => clients[e].disconnect()));
      realClock();
    }
  });
});
