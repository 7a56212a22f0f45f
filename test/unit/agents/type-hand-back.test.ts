import { describe, expect, it } from "vitest";
import { SOLE } from "../../../src/agents/coordinator/cluster-seam.js";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { TypeHandBack } from "../../../src/agents/coordinator/type-hand-back.js";
import { DispatchPlanner, type HandBack } from "../../../src/agents/distributor/dispatch-plan.js";
import { DispatchQueue } from "../../../src/agents/distributor/dispatch-queue.js";
import { HandBackAsks } from "../../../src/agents/distributor/hand-back-asks.js";
import { HeldTasks } from "../../../src/agents/distributor/held-tasks.js";
import { WorkerRegistry } from "../../../src/agents/distributor/worker-registry.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import type { DistributorHeartbeat, TaskDict, WorkerSummary } from "../../../src/agents/protocol.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { workerSummary } from "../../helpers/worker-summary.js";

/**
 * Hand-backs: a distributor none of whose live workers runs a task's type asks the coordinator
 * first (DispatchPlanner), which moves it to a distributor known to run it, waits a moment for
 * one that may soon, or leaves it where it is (TypeHandBack).
 */

const task = (id: string, type: string): TaskDict => pendingTask(id, { task_type: type });

const hb = (workers: WorkerSummary[]): DistributorHeartbeat => ({
  kind: "distributor_status",
  status: "idle",
  load: 0,
  capacity: 10,
  url: null,
  owns_lease: true,
  workers,
  done: 0,
});

/** A coordinator's TypeHandBack over `dir`, its store's moves recorded (each allowed). */
function handBacks(
  dir: DistributorDirectory,
  timing = { heartbeatTimeoutMs: 60_000, heartbeatIntervalMs: 1000 },
) {
  const assigned: string[] = [];
  const sent: string[] = [];
  const ledger = {
    shardOf: () => 0,
    grouped: async (_script: unknown, head: string[], items: number[], idOf: (k: number) => string) =>
      items.map((k) => {
        assigned.push(`${idOf(k)}>${head[1]}`);
        return 1;
      }),
  } as unknown as TaskLedger;
  const h = new TypeHandBack({
    ledger,
    directory: dir,
    cluster: SOLE,
    timing: timing as never,
    moved: (t, to) => sent.push(`${t.task_id}>${to}`),
  });
  return { h, assigned, sent };
}

describe("TypeHandBack (the coordinator's side)", () => {
  it("moves a handed-back task to a healthy distributor whose live worker runs its type, recorded first", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([workerSummary("w1", ["first"])]));
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])]));
    const { h, assigned, sent } = handBacks(dir);
    expect(await h.ask("d2", [task("t1", "first"), task("t2", "second")])).toEqual(["t1"]);
    expect(assigned).toEqual(["t1>d1"]);
    expect(sent).toEqual(["t1>d1"]);
  });

  it("asks the directory whether a type awaits a runner once per type in an answer, however many of its tasks are kept", async () => {
    const asked: string[] = [];
    const dir = {
      runnerElsewhere: () => undefined,
      mayRunSoon: () => false,
      awaitsRunner: (type: string) => {
        asked.push(type);
        return type === "b";
      },
    } as unknown as DistributorDirectory;
    const { h } = handBacks(dir);
    const tasks = [0, 1, 2, 3, 4].flatMap((i) => [task(`a${i}`, "a"), task(`b${i}`, "b")]);
    expect(await h.answer("d1", tasks)).toEqual({
      moved: [],
      waiting: ["b0", "b1", "b2", "b3", "b4"],
      elsewhere: [],
    });
    expect(asked.sort()).toEqual(["a", "b"]);
  });

  it("leaves a task where it is when no other distributor runs its type nor may soon (it fails there as unknown, as before)", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([workerSummary("w1", ["first"])]));
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])]));
    const { h, assigned } = handBacks(dir);
    expect(await h.ask("d2", [task("t1", "third")])).toEqual([]);
    // The sender's own types do not count: it asked because its live workers do not run it.
    dir.heartbeat("d1", hb([workerSummary("w1", ["first"], "dead")]));
    expect(await h.ask("d1", [task("t2", "first")])).toEqual([]);
    expect(assigned).toEqual([]);
  });

  it("waits, while another distributor has a worker that has not said what it runs, for its heartbeat that says so", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([workerSummary("w1", [])])); // just started: not said yet
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])]));
    const { h, sent } = handBacks(dir);
    let answer: string[] | undefined;
    void h.ask("d2", [task("t1", "first"), task("t2", "third")]).then((a) => {
      answer = a;
    });
    await new Promise((r) => setImmediate(r));
    expect(answer).toBeUndefined();
    dir.heartbeat("d1", hb([workerSummary("w1", ["first"])]));
    h.heard();
    await new Promise((r) => setImmediate(r));
    expect(answer).toEqual(["t1"]);
    expect(sent).toEqual(["t1>d1"]);
  });

  it("answers at once, past its bound (a heartbeat timeout plus an interval), though a worker has still not said", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([workerSummary("w1", [])]));
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])]));
    const { h } = handBacks(dir, { heartbeatTimeoutMs: 0, heartbeatIntervalMs: 0 });
    expect(await h.ask("d2", [task("t1", "first")])).toEqual([]);
  });

  it("past its bound, says which kept tasks wait for a runner of their type that is dead but remembered (the holder asks again)", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([workerSummary("w1", ["first"])]));
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])]));
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d2", hb([workerSummary("w2", ["second"])])); // d1, the only runner of "first", stays dead
    const { h, assigned } = handBacks(dir, { heartbeatTimeoutMs: 0, heartbeatIntervalMs: 0 });
    expect(await h.answer("d2", [task("t1", "first"), task("t2", "third")])).toEqual({
      moved: [],
      waiting: ["t1"],
      elsewhere: [],
    });
    expect(assigned).toEqual([]);
  });
});

/** `asked`: the tasks asked about; `keep`: those an earlier answer kept here. */
function fakeHandBack(keep: string[] = []) {
  const asked: string[] = [];
  const handBack: HandBack = {
    asked: (id) => asked.includes(id),
    waits: (t) => {
      if (keep.includes(t.task_id)) return false;
      asked.push(t.task_id);
      return true;
    },
  };
  return { handBack, asked };
}

describe("DispatchPlanner with hand-backs (the distributor's side)", () => {
  const registry = () => {
    const r = new WorkerRegistry(1);
    r.upsert("a", { capacity: 2 }).taskTypes = ["second"];
    return r;
  };

  it("asks about a task none of its live workers runs instead of giving it to one to fail, and holds it while asked", () => {
    const r = registry();
    const { handBack, asked } = fakeHandBack();
    const planner = new DispatchPlanner(r.alive(), r, handBack);
    expect(planner.add(task("t1", "first"))).toBe(false);
    expect(planner.add(task("t1", "first"))).toBe(false);
    expect(asked).toEqual(["t1"]);
    expect(planner.add(task("t2", "second"))).toBe(true);
    expect(planner.plan.map((p) => p.task.task_id)).toEqual(["t2"]);
  });

  it("asks before waiting for a dead worker that ran the type; kept, it waits for that worker as before", () => {
    const r = registry();
    const dead = r.upsert("b", { capacity: 2 });
    dead.taskTypes = ["first"];
    dead.status = "dead";
    const first = fakeHandBack();
    expect(new DispatchPlanner(r.alive(), r, first.handBack).add(task("t1", "first"))).toBe(false);
    expect(first.asked).toEqual(["t1"]);
    const kept = fakeHandBack(["t1"]);
    const planner = new DispatchPlanner(r.alive(), r, kept.handBack);
    expect(planner.add(task("t1", "first"))).toBe(false); // waits for b, as before
    expect(planner.plan).toEqual([]);
  });

  it("gives a kept task of a type no worker ever ran to a worker, to fail there as unknown (as before)", () => {
    const r = registry();
    const planner = new DispatchPlanner(r.alive(), r, fakeHandBack(["t1"]).handBack);
    expect(planner.add(task("t1", "third"))).toBe(true);
    expect(planner.plan.map((p) => `${p.task.task_id}>${p.worker.id}`)).toEqual(["t1>a"]);
  });

  it("does not ask while a live worker here runs the type (busy) or has not said what it runs", () => {
    const r = registry();
    r.upsert("c", { capacity: 1 }); // not said yet
    const { handBack, asked } = fakeHandBack();
    expect(new DispatchPlanner(r.alive(), r, handBack).add(task("t1", "first"))).toBe(false);
    expect(asked).toEqual([]);
  });
});

describe("HandBackAsks (the distributor's questions)", () => {
  it("asks once, with every due task of the type queued; drops those moved, keeps the rest and does not ask about them again", async () => {
    const queue = new DispatchQueue();
    const held = new HeldTasks();
    const [t1, t2, t3, t4] = [
      task("t1", "first"),
      task("t2", "first"),
      task("t3", "first"),
      task("t4", "second"),
    ];
    for (const t of [t1, t2, t4]) {
      held.take(t);
      queue.push(t);
    }
    held.take(t3);
    queue.push(t3, Date.now() + 600_000); // in a retry's backoff: asked about once it is due
    const calls: Array<[string, string[]]> = [];
    let answer!: (a: { moved: string[]; waiting: string[] } | null) => void;
    const ask = (to: string, tasks: TaskDict[]) => {
      calls.push([to, tasks.map((t) => t.task_id)]);
      return new Promise<{ moved: string[]; waiting: string[] } | null>((r) => {
        answer = r;
      });
    };
    let pumped = 0;
    const h = new HandBackAsks(ask, {
      queue,
      held,
      placedBy: new Map(),
      home: () => "c1",
      pump: () => pumped++,
    });
    expect(h.waits(t1)).toBe(true);
    expect(h.waits(t2)).toBe(true);
    expect(h.asked("t2")).toBe(true);
    expect(calls).toEqual([["c1", ["t1", "t2"]]]);
    answer({ moved: ["t1"], waiting: [] });
    await new Promise((r) => setImmediate(r));
    expect([queue.has("t1"), held.has("t1")]).toEqual([false, false]);
    expect([queue.has("t2"), held.has("t2"), h.asked("t2")]).toEqual([true, true, false]);
    expect(pumped).toBe(1);
    expect(h.waits(t2)).toBe(false); // kept: goes on as before, not asked again
    expect(calls).toHaveLength(1);
  });

  it("a task the answer says waits for a runner of its type (dead but remembered) is not run here: it is asked about again", async () => {
    const queue = new DispatchQueue();
    const held = new HeldTasks();
    const t1 = task("t1", "first");
    held.take(t1);
    queue.push(t1);
    const calls: string[][] = [];
    let answer!: (a: { moved: string[]; waiting: string[] } | null) => void;
    const ask = (_to: string, tasks: TaskDict[]) => {
      calls.push(tasks.map((t) => t.task_id));
      return new Promise<{ moved: string[]; waiting: string[] } | null>((r) => {
        answer = r;
      });
    };
    const h = new HandBackAsks(ask, { queue, held, placedBy: new Map(), home: () => "c1", pump: () => {} });
    expect(h.waits(t1)).toBe(true);
    answer({ moved: [], waiting: ["t1"] });
    await new Promise((r) => setImmediate(r));
    expect([queue.has("t1"), held.has("t1"), h.asked("t1")]).toEqual([true, true, false]);
    expect(h.waits(t1)).toBe(true); // not kept: asked again, not dispatched
    expect(calls).toEqual([["t1"], ["t1"]]);
    answer({ moved: ["t1"], waiting: [] }); // its runner is back: moved there
    await new Promise((r) => setImmediate(r));
    expect([queue.has("t1"), held.has("t1")]).toEqual([false, false]);
  });
});
