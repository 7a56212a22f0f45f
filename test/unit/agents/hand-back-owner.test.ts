import { describe, expect, it } from "vitest";
import { type ClusterSeam, SOLE } from "../../../src/agents/coordinator/cluster-seam.js";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { TypeHandBack } from "../../../src/agents/coordinator/type-hand-back.js";
import { DispatchQueue } from "../../../src/agents/distributor/dispatch-queue.js";
import {
  type AskHandBack,
  askHandBack,
  HandBackAsks,
  type HandBackReply,
  warnUnansweredOnce,
} from "../../../src/agents/distributor/hand-back-asks.js";
import { HeldTasks } from "../../../src/agents/distributor/held-tasks.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import type { DistributorHeartbeat, TaskDict } from "../../../src/agents/protocol.js";
import { pendingTask } from "../../helpers/task-dict.js";

/**
 * Hand-backs across coordinators and releases: a coordinator that no longer owns a task's shard
 * names its owner (the holder asks that one, and the task still moves), and a coordinator that
 * ignores hand_back (an earlier release) leaves the tasks kept, told once in the log, not on
 * every question.
 */

const task = (id: string, type = "first"): TaskDict => pendingTask(id, { task_type: type });

const hb = (types: string[]): DistributorHeartbeat => ({
  kind: "distributor_status",
  status: "idle",
  load: 0,
  capacity: 10,
  url: null,
  owns_lease: true,
  workers: [
    {
      id: "w",
      status: "idle",
      load: 0,
      capacity: 10,
      last_heartbeat: null,
      done: 0,
      task_types: types,
      remote_agents: [],
    },
  ],
  done: 0,
});

/** A coordinator's TypeHandBack that owns only the shards of `owned` task ids; `owner` for the rest. */
function coordinator(owned: string[], owner: ReturnType<ClusterSeam["ownerOf"]>, bound = 0) {
  const dir = new DistributorDirectory();
  dir.heartbeat("d1", hb(["first"]));
  dir.heartbeat("d2", hb(["second"]));
  const ledger = {
    shardOf: () => 0,
    grouped: async (_script: unknown, _head: string[], items: number[]) => items.map(() => 1),
  } as unknown as TaskLedger;
  const cluster: ClusterSeam = {
    ...SOLE,
    ownerValue: (id) => (owned.includes(id) ? "" : null),
    ownerOf: (id) => (owned.includes(id) ? undefined : owner),
  };
  return new TypeHandBack({
    ledger,
    directory: dir,
    cluster,
    timing: { heartbeatTimeoutMs: bound, heartbeatIntervalMs: 0 } as never,
    moved: () => {},
  });
}

/** A distributor's questions over a queue holding `tasks`, asked through `ask`. */
function holder(ask: AskHandBack, tasks: TaskDict[]) {
  const queue = new DispatchQueue();
  const held = new HeldTasks();
  for (const t of tasks) {
    held.take(t);
    queue.push(t);
  }
  const h = new HandBackAsks(ask, { queue, held, placedBy: new Map(), home: () => "c1", pump: () => {} });
  return { h, queue, held };
}

const settle = () => new Promise((r) => setImmediate(r));

describe("a hand-back to a coordinator that no longer owns the task's shard", () => {
  it("is answered with the shard's owner (not kept to fail as unknown); those it owns move as before", async () => {
    const h = coordinator(["t2"], { id: "c2", url: "http://127.0.0.1:7201" });
    expect(await h.answer("d2", [task("t1"), task("t2")])).toEqual({
      moved: ["t2"],
      waiting: [],
      elsewhere: [{ coordinator: "c2", url: "http://127.0.0.1:7201", tasks: ["t1"] }],
    });
  });

  it("with no owner known (the shard between owners), the task waits: asked about again, not kept", async () => {
    const h = coordinator([], undefined);
    expect(await h.answer("d2", [task("t1")])).toEqual({ moved: [], waiting: ["t1"], elsewhere: [] });
  });

  it("an answer that waits for heartbeats comes at its bound though none is taken (the distributors heard only through another coordinator's view)", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb([])); // its worker has not said what it runs yet
    dir.heartbeat("d2", hb(["second"]));
    const h = new TypeHandBack({
      ledger: {} as TaskLedger,
      directory: dir,
      cluster: SOLE,
      timing: { heartbeatTimeoutMs: 50, heartbeatIntervalMs: 0 } as never,
      moved: () => {},
    });
    let answer: unknown;
    void h.answer("d2", [task("t1")]).then((a) => {
      answer = a;
    });
    await settle();
    expect(answer).toBeUndefined(); // waits: d1 may run it
    // No heartbeat is taken (heard() is not called): answered all the same once the bound passes.
    await expect.poll(() => answer, { timeout: 5000 }).toEqual({ moved: [], waiting: [], elsewhere: [] });
  });

  it("the holder asks the owner it was told of, and the task moves; meanwhile it is not dispatched", async () => {
    const calls: Array<[string, string[]]> = [];
    let toOwner!: (a: HandBackReply | null) => void;
    const ask: AskHandBack = async (to, tasks) => {
      calls.push([to, tasks.map((t) => t.task_id)]);
      if (to === "c1")
        return { moved: [], waiting: [], elsewhere: [{ coordinator: "c2", url: null, tasks: ["t1"] }] };
      return new Promise((r) => {
        toOwner = r;
      });
    };
    const { h, queue, held } = holder(ask, [task("t1")]);
    expect(h.waits(task("t1"))).toBe(true);
    await settle();
    expect(calls).toEqual([
      ["c1", ["t1"]],
      ["c2", ["t1"]],
    ]);
    expect(h.asked("t1")).toBe(true); // still asked about: not dispatched
    toOwner({ moved: ["t1"], waiting: [] });
    await settle();
    expect([queue.has("t1"), held.has("t1"), h.asked("t1")]).toEqual([false, false, false]);
  });

  it("is sent on a bounded number of times: past it, asked about again later instead of kept", async () => {
    const calls: string[] = [];
    const ask: AskHandBack = async (to) => {
      calls.push(to);
      const next = `c${Number(to.slice(1)) + 1}`;
      return { moved: [], waiting: [], elsewhere: [{ coordinator: next, url: null, tasks: ["t1"] }] };
    };
    const { h } = holder(ask, [task("t1")]);
    expect(h.waits(task("t1"))).toBe(true);
    await expect.poll(() => h.asked("t1"), { timeout: 5000 }).toBe(false);
    expect(calls).toEqual(["c1", "c2", "c3"]);
    expect(h.waits(task("t1"))).toBe(true); // not kept: asked again
  });

  it("askHandBack reads the owners named and learns an owner's URL it does not know", async () => {
    const peers = new Map<string, string>([["c3", "http://known:1"]]);
    const data = {
      moved: ["t0"],
      waiting: [],
      elsewhere: [
        { coordinator: "c2", url: "http://127.0.0.1:7202", tasks: ["t1", 5] },
        { coordinator: "c3", url: "http://other:2", tasks: ["t2"] },
        { coordinator: "c1", url: null, tasks: ["t3"] }, // itself: dropped
        "junk",
      ],
    };
    const a2a = {
      sendRequest: async () => ({ payload: { success: true, data } }) as never,
      peerUrl: (id: string) => peers.get(id),
      setPeer: (id: string, url: string) => void peers.set(id, url),
    };
    const timing = { heartbeatTimeoutMs: 100, heartbeatIntervalMs: 10 } as never;
    expect(await askHandBack(a2a, timing, "c1", [task("t1")])).toEqual({
      moved: ["t0"],
      waiting: [],
      elsewhere: [
        { coordinator: "c2", url: "http://127.0.0.1:7202", tasks: ["t1"] },
        { coordinator: "c3", url: "http://other:2", tasks: ["t2"] },
      ],
    });
    // A URL given to this distributor is never replaced.
    expect([...peers]).toEqual([
      ["c3", "http://known:1"],
      ["c2", "http://127.0.0.1:7202"],
    ]);
    // An earlier coordinator's answer names none.
    a2a.sendRequest = async () => ({ payload: { success: true, data: { moved: [] } } }) as never;
    expect(await askHandBack(a2a, timing, "c1", [task("t1")])).toEqual({
      moved: [],
      waiting: [],
      elsewhere: [],
    });
  });
});

describe("a hand-back to a coordinator that ignores it (an earlier release)", () => {
  it("keeps the tasks (nothing lost) and warns once, not on every question, until the coordinator answers again", async () => {
    const warned: Array<[string, number]> = [];
    let answers = false;
    const calls: string[][] = [];
    const ask = warnUnansweredOnce(
      async (_to, tasks) => {
        calls.push(tasks.map((t) => t.task_id));
        return answers ? { moved: [], waiting: [] } : null;
      },
      (coordinator, n) => warned.push([coordinator, n]),
    );
    const tasks = [1, 2, 3, 4].map((n) => task(`t${n}`, `type-${n}`));
    const { h, queue, held } = holder(ask, tasks);
    for (const t of tasks.slice(0, 3)) {
      expect(h.waits(t)).toBe(true);
      await settle();
      // Kept: dispatched as before (waits no more), still queued and held here.
      expect([h.waits(t), queue.has(t.task_id), held.has(t.task_id)]).toEqual([false, true, true]);
    }
    expect(calls).toEqual([["t1"], ["t2"], ["t3"]]);
    expect(warned).toEqual([["c1", 1]]);
    // It answers again, then falls silent again: told again, once.
    answers = true;
    expect(h.waits(tasks[3]!)).toBe(true);
    await settle();
    answers = false;
    const more = [5, 6].map((n) => task(`t${n}`, `type-${n}`));
    for (const t of more) {
      held.take(t);
      queue.push(t);
      expect(h.waits(t)).toBe(true);
      await settle();
    }
    expect(warned).toEqual([
      ["c1", 1],
      ["c1", 1],
    ]);
    for (const t of [...tasks, ...more]) expect(queue.has(t.task_id)).toBe(true);
  });
});
