import { END, Overwrite, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import {
  AgentStatus,
  isTriadError,
  LocalAgentState,
  LocalStateAnnotation,
  SharedAgentState,
  SharedStateAnnotation,
  Task,
  TaskStatus,
} from "../../../src/index.js";

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isTriadError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected a TriadError ${code}`);
}

describe("LocalAgentState", () => {
  it("runs the seed's usage example", () => {
    const local = new LocalAgentState({ agentId: "agent-1" });
    local.setStatus(AgentStatus.BUSY);
    const task = new Task({ taskId: "task-1", taskType: "compute", payload: { operation: "sum" } });
    local.addTask(task);
    task.markStarted();
    task.markCompleted({ result: 42 });
    const dict = JSON.parse(JSON.stringify(local));
    expect(dict.status).toBe("busy");
    expect(dict.local_tasks[0]).toMatchObject({
      task_id: "task-1",
      status: "completed",
      result: { result: 42 },
    });
  });

  it("has a dict with exactly the seed's keys", () => {
    expect(Object.keys(new LocalAgentState({ agentId: "a" }).toDict())).toEqual([
      "agent_id",
      "status",
      "local_tasks",
      "last_heartbeat",
      "local_vars",
      "history",
      "metadata",
    ]);
  });

  it("keeps the seed's methods: tasks by id, variables, history, status, heartbeat", () => {
    const local = new LocalAgentState({ agentId: "a" });
    const t1 = new Task({ taskId: "t1", taskType: "x" });
    local.addTask(t1);
    local.addTask(new Task({ taskId: "t2", taskType: "x" }));
    local.addTask(new Task({ taskId: "t1", taskType: "y" })); // same id: replaces, keeps its place
    expect([...local.tasks.keys()]).toEqual(["t1", "t2"]);
    expect(local.getTask("t1")?.taskType).toBe("y");
    expect(local.getTask("nope")).toBeUndefined();
    expect(local.updateTask("t2", { status: TaskStatus.IN_PROGRESS })).toBe(true);
    expect(local.getTask("t2")?.attempts).toBe(1);
    expect(local.updateTask("nope", { status: TaskStatus.IN_PROGRESS })).toBe(false);
    expectCode(() => local.updateTask("t1", { status: TaskStatus.COMPLETED }), "ERR_ILLEGAL_TRANSITION");
    expect(local.removeTask("t1")).toBe(true);
    expect(local.removeTask("t1")).toBe(false);

    local.setLocalVar("round", 3);
    local.setLocalVar("peers", ["d1", "d2"]);
    local.setLocalVar("round", 4);
    expect(local.getLocalVar("round")).toBe(4);
    expect(local.getLocalVar("peers")).toEqual(["d1", "d2"]);
    expect(local.getLocalVar("missing")).toBeUndefined();
    expectCode(() => local.setLocalVar("bad", Number.NaN), "ERR_INVALID_JSON");

    local.addHistoryEntry({ event: "started" });
    local.addHistoryEntry({ event: "custom", timestamp: "2025-01-01T00:00:00Z" });
    expect(local.history[0]?.event).toBe("started");
    expect(typeof local.history[0]?.timestamp).toBe("string");
    expect(local.history[1]?.timestamp).toBe("2025-01-01T00:00:00Z");

    const before = local.lastHeartbeat;
    local.updateTimestamp();
    expect(local.lastHeartbeat >= before).toBe(true);
    expectCode(() => local.setStatus("sleeping" as AgentStatus), "ERR_INVALID_STATE", /status/);
  });

  it("bounds the history: the newest entries stay, memory stays flat", () => {
    const local = new LocalAgentState({ agentId: "a", historyLimit: 50 });
    for (let i = 0; i < 10_000; i++) local.addHistoryEntry({ i });
    expect(local.history).toHaveLength(50);
    expect(local.history[0]?.i).toBe(9_950);
    expect(local.history[49]?.i).toBe(9_999);
  });

  it("round-trips losslessly through fromDict", () => {
    const local = new LocalAgentState({ agentId: "distributor-1" });
    local.setStatus(AgentStatus.RECOVERING);
    const t = new Task({ taskId: "t", taskType: "echo", payload: { a: [1, { b: null }] } });
    t.markStarted();
    local.addTask(t);
    local.addTask(new Task({ taskId: "u", taskType: "sleep", payload: { ms: 5 } }));
    local.setLocalVar("k", { nested: [true, 1.5] });
    local.addHistoryEntry({ event: "x" });
    local.setMetadata("region", "eu");
    const wire = JSON.parse(JSON.stringify(local));
    const back = LocalAgentState.fromDict(wire);
    expect(back.toDict()).toEqual(local.toDict());
    expect(JSON.stringify(back)).toBe(JSON.stringify(local));
  });

  it("validates fromDict and names the bad field", () => {
    const good = new LocalAgentState({ agentId: "a" }).toDict();
    const badTask = { ...new Task({ taskId: "t", taskType: "x" }).toDict(), status: "done" };
    expectCode(
      () => LocalAgentState.fromDict({ ...good, local_tasks: [badTask] }),
      "ERR_INVALID_STATE",
      /local_tasks\[0\]\.status/,
    );
    expectCode(
      () => LocalAgentState.fromDict({ ...good, status: "asleep" }),
      "ERR_INVALID_STATE",
      /\.status/,
    );
    expectCode(
      () => LocalAgentState.fromDict({ ...good, history: [1] }),
      "ERR_INVALID_STATE",
      /history\[0\]/,
    );
    expectCode(() => LocalAgentState.fromDict({ ...good, agent_id: "" }), "ERR_INVALID_STATE", /agent_id/);
    expectCode(
      () => LocalAgentState.fromDict({ ...good, extra: 1 }),
      "ERR_INVALID_STATE",
      /unknown key.*extra/,
    );
  });

  it('refuses wrong constructor options with ERR_INVALID_CONFIG, as every constructor does (an agentId of "" or a historyLimit of 0 was ERR_INVALID_STATE, a historyLimit of "5" ERR_INVALID_CONFIG)', () => {
    const config = (init: unknown, message: RegExp) =>
      expectCode(() => new LocalAgentState(init as never), "ERR_INVALID_CONFIG", message);
    config({ agentId: "" }, /^new LocalAgentState\(\): option agentId must be a non-empty string \(got ""\)/);
    config({}, /option agentId must be a non-empty string \(got undefined\)/);
    config({ agentId: 5 }, /option agentId must be a non-empty string \(got 5\)/);
    config(null, /the options must be an object \(got null\)/);
    config({ agentId: "a", historyLimit: 0 }, /option historyLimit must be a positive integer \(got 0\)/);
    config({ agentId: "a", historyLimit: 1.5 }, /option historyLimit must be a positive integer/);
    config({ agentId: "a", historyLimit: "5" }, /option historyLimit must be a number/);
    config({ agentId: "a", status: "asleep" }, /invalid status/);
    config({ agentId: "a", status: 5 }, /option status must be a string/);
    expectCode(
      () => LocalAgentState.fromDict(new LocalAgentState({ agentId: "a" }).toDict(), { historyLimit: -1 }),
      "ERR_INVALID_CONFIG",
      /historyLimit/,
    );
    // The shared state's constructor alike: its status and lease are options too.
    expectCode(
      () => new SharedAgentState({ status: "asleep" as never }),
      "ERR_INVALID_CONFIG",
      /invalid status/,
    );
    expectCode(
      () => new SharedAgentState({ lease: {} as never }),
      "ERR_INVALID_CONFIG",
      /invalid lease\.owner/,
    );
    // A wrong value given to a method of a built state is still ERR_INVALID_STATE.
    expectCode(() => new LocalAgentState({ agentId: "a" }).setStatus("asleep" as never), "ERR_INVALID_STATE");
  });

  it("folds LangGraph updates with the annotation's reducers, Overwrite included", () => {
    const local = new LocalAgentState({ agentId: "a" });
    const t = new Task({ taskId: "t", taskType: "x" });
    local.apply({ local_tasks: [t], history: [{ e: 1 }, { e: 2 }], local_vars: { a: 1 } });
    local.apply({ local_vars: { b: 2 }, history: { e: 3 } });
    expect(local.values.local_vars).toEqual({ a: 1, b: 2 });
    expect(local.history.map((h) => h.e)).toEqual([1, 2, 3]);
    local.apply({ history: new Overwrite([{ e: 9 }]), local_vars: new Overwrite({ c: 3 }) });
    expect(local.history).toEqual([{ e: 9 }]);
    expect(local.values.local_vars).toEqual({ c: 3 });
    expectCode(() => local.apply({ agent_id: "b" }), "ERR_INVALID_STATE");
  });

  it("is real LangGraph state: a StateGraph over LocalStateAnnotation reduces with the same rules", async () => {
    const graph = new StateGraph(LocalStateAnnotation)
      .addNode("take", () => ({
        local_tasks: new Task({ taskId: "t1", taskType: "x" }),
        history: { event: "took t1" },
        local_vars: { taken: 1 },
      }))
      .addNode("drop", () => ({ local_tasks: { remove: "t0" }, history: [{ event: "dropped t0" }] }))
      .addEdge(START, "take")
      .addEdge("take", "drop")
      .addEdge("drop", END)
      .compile();
    const out = await graph.invoke({
      agent_id: "a",
      local_tasks: [new Task({ taskId: "t0", taskType: "x" })],
      local_vars: { before: true },
    });
    expect([...out.local_tasks.keys()]).toEqual(["t1"]);
    expect(out.history.map((h) => h.event)).toEqual(["took t1", "dropped t0"]);
    expect(out.local_vars).toEqual({ before: true, taken: 1 });
  });
});

describe("SharedAgentState", () => {
  it("runs the seed's usage example", () => {
    const shared = new SharedAgentState();
    shared.assignWorker("worker-1");
    const task = new Task({ taskId: "task-1", taskType: "compute" });
    shared.addTask(task);
    const dict = JSON.parse(JSON.stringify(shared));
    expect(dict).toEqual({
      coordinator_version: "v1",
      distributor_version: "v1",
      status: "idle",
      assigned_workers: ["worker-1"],
      tasks: [task.toDict()],
      lease: null,
    });
  });

  it("keeps workers as a set and tasks by id", () => {
    const shared = new SharedAgentState();
    expect(shared.assignWorker("w1")).toBe(true);
    expect(shared.assignWorker("w2")).toBe(true);
    expect(shared.assignWorker("w1")).toBe(false);
    expect(shared.assignedWorkers).toEqual(["w1", "w2"]);
    expect(shared.removeWorker("w1")).toBe(true);
    expect(shared.removeWorker("w1")).toBe(false);
    expect(shared.assignedWorkers).toEqual(["w2"]);
    expectCode(() => shared.assignWorker(""), "ERR_INVALID_STATE");
    shared.addTask(new Task({ taskId: "t", taskType: "x" }));
    expect(shared.updateTask("t", { assignedTo: "w2", fencingToken: 1 })).toBe(true);
    expect(shared.getTask("t")?.assignedTo).toBe("w2");
    expect(shared.removeTask("t")).toBe(true);
    expect(shared.tasks.size).toBe(0);
  });

  it("records the lease (a store LeaseInfo fits, its token is not kept)", () => {
    const shared = new SharedAgentState();
    shared.setLease({
      owner: "distributor-1",
      acquired_at: "2025-11-28T10:30:00.000Z",
      expires_at: "2025-11-28T10:30:10.000Z",
      token: 7,
    } as never);
    expect(shared.toDict().lease).toEqual({
      owner: "distributor-1",
      acquired_at: "2025-11-28T10:30:00.000Z",
      expires_at: "2025-11-28T10:30:10.000Z",
    });
    shared.setLease(null);
    expect(shared.lease).toBeNull();
  });

  it("round-trips losslessly and validates fromDict naming the bad field", () => {
    const shared = new SharedAgentState({ coordinatorVersion: "v7", status: AgentStatus.BUSY });
    shared.assignWorker("w1");
    shared.addTask(new Task({ taskId: "t", taskType: "x", payload: { k: "v" } }));
    shared.setLease({
      owner: "coordinator",
      acquired_at: "2025-01-01T00:00:00Z",
      expires_at: "2025-01-01T00:00:30Z",
    });
    const wire = JSON.parse(JSON.stringify(shared));
    expect(SharedAgentState.fromDict(wire).toDict()).toEqual(shared.toDict());
    expectCode(
      () => SharedAgentState.fromDict({ ...wire, lease: { ...wire.lease, expires_at: 5 } }),
      "ERR_INVALID_STATE",
      /lease\.expires_at/,
    );
    expectCode(
      () => SharedAgentState.fromDict({ ...wire, assigned_workers: [""] }),
      "ERR_INVALID_STATE",
      /assigned_workers\[0\]/,
    );
  });

  it("is real LangGraph state: reducers merge workers and tasks inside a graph", async () => {
    const graph = new StateGraph(SharedStateAnnotation)
      .addNode("a", () => ({ assigned_workers: ["w1", "w2"] }))
      .addNode("b", () => ({
        assigned_workers: ["w2", { remove: "w0" }],
        tasks: new Task({ taskId: "t", taskType: "x" }),
      }))
      .addEdge(START, "a")
      .addEdge(START, "b")
      .addEdge("a", END)
      .addEdge("b", END)
      .compile();
    const out = await graph.invoke({ assigned_workers: ["w0"] });
    expect([...out.assigned_workers].sort()).toEqual(["w1", "w2"]);
    expect([...out.tasks.keys()]).toEqual(["t"]);
  });
});
