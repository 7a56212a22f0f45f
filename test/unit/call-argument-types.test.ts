import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  A2ARouter,
  AgentKeyRegistry,
  CoordinatorAgent,
  DistributorAgent,
  Keyring,
  LocalAgentState,
  RedisClient,
  Task,
  tickTaskId,
  WorkerAgent,
} from "../../src/index.js";

/**
 * Wrong-type arguments to the public calls beside the options: each was taken as it was (a
 * cancel reason of 5 became the error "5", `registerDistributor(5)` registered a distributor
 * "5", a subscribe callback of 5 swallowed every message, a transaction with `maxRetries: "3"`
 * retried a conflict for ever), ignored (A2ARouter's and AgentKeyRegistry's misspelt options,
 * provideInput's options of 5), or a TypeError (`new Keyring(null)`, a transaction's update of 5).
 */

const invalidArgument = (message: string) =>
  expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining(message) });
const invalidConfig = (message: string) =>
  expect.objectContaining({ code: "ERR_INVALID_CONFIG", message: expect.stringContaining(message) });

describe("call arguments of the wrong type", () => {
  const redis = { url: "memory://call-argument-types" };
  const coordinator = new CoordinatorAgent({ agentId: "c", redis });
  const distributor = new DistributorAgent({ agentId: "d", coordinatorId: "c", redis });
  const worker = new WorkerAgent({ agentId: "w", distributorId: "d" });

  beforeAll(async () => {
    for (const agent of [coordinator, distributor, worker]) await agent.initialize();
  });
  afterAll(async () => {
    for (const agent of [worker, distributor, coordinator]) await agent.cleanup();
  });

  it("cancelTask's reason must be a string: 5 was written as the task's error", async () => {
    await coordinator.submitTask({ task_id: "held", task_type: "sleep", payload: { ms: 60_000 } });
    await expect(coordinator.cancelTask("held", 5 as never)).rejects.toThrow(
      invalidArgument("cancelTask's reason must be a non-empty string (the task's error; got 5)"),
    );
    // Nothing was done to the task: it is still open, and a good cancel ends it.
    expect(await coordinator.cancelTask("held", "no longer wanted")).toBe(true);
    expect((await coordinator.waitForTask("held", 5000))?.error).toBe("no longer wanted");
  });

  it("provideInput's options must be an object of known keys", async () => {
    await expect(coordinator.provideInput("held", 1, 5 as never)).rejects.toThrow(
      invalidArgument("provideInput: options must be an object (got 5)"),
    );
    await expect(coordinator.provideInput("held", 1, { questoin: 0 } as never)).rejects.toThrow(
      invalidConfig("unknown option options.questoin (did you mean options.question?)"),
    );
  });

  it("registerDistributor takes a non-empty string id and a string url", async () => {
    await expect(coordinator.registerDistributor(5 as never)).rejects.toThrow(
      invalidArgument("registerDistributor: distributorId must be a non-empty string (got 5)"),
    );
    await expect(coordinator.registerDistributor("d2", 7 as never)).rejects.toThrow(
      invalidArgument("registerDistributor: url must be a string (got 7)"),
    );
  });

  it("RedisClient: subscribe's callback and transaction's update must be functions, maxRetries an integer", async () => {
    const store = new RedisClient(redis);
    await store.connect();
    await expect(store.subscribe("ch", 5 as never)).rejects.toThrow(
      invalidArgument("subscribe: callback must be a function (got 5)"),
    );
    await expect(store.transaction("k", 5 as never)).rejects.toThrow(
      invalidArgument("transaction: update must be a function (got 5)"),
    );
    await expect(store.transaction("k", () => 1, { maxRetries: "3" } as never)).rejects.toThrow(
      invalidArgument('transaction: maxRetries must be an integer >= 0 (got "3")'),
    );
    expect(await store.transaction<number>("k", (n) => (n ?? 0) + 1, { maxRetries: 0 })).toBe(1);
    await store.disconnect();
  });

  it("A2ARouter, AgentKeyRegistry and Keyring refuse what they were given wrong", () => {
    expect(() => new A2ARouter({ signd: true } as never)).toThrow(
      invalidConfig("new A2ARouter(): unknown option signd (did you mean signed?)"),
    );
    expect(() => new A2ARouter({ signed: "yes" } as never)).toThrow(
      invalidConfig('option signed must be true or false (got "yes")'),
    );
    expect(() => new A2ARouter(5 as never)).toThrow(invalidConfig("the options must be an object (got 5)"));
    expect(() => new A2ARouter().registerAgent("a", 5 as never)).toThrow(
      invalidArgument("registerAgent: client must be an A2AClient (got 5)"),
    );
    expect(() => new A2ARouter().registerAgent(5 as never, {} as never)).toThrow(
      invalidArgument("registerAgent: agentId must be a non-empty string (got 5)"),
    );
    const store = new RedisClient(redis);
    expect(() => new AgentKeyRegistry(store, { refreshMS: 10 } as never)).toThrow(
      invalidConfig("unknown option refreshMS (did you mean refreshMs?)"),
    );
    expect(() => new AgentKeyRegistry(store, { refreshMs: 0 })).toThrow(
      invalidConfig("refreshMs must be a positive integer"),
    );
    expect(() => new AgentKeyRegistry("memory://" as never)).toThrow(
      invalidConfig("store must be a RedisClient"),
    );
    expect(() => new Keyring(null as never)).toThrow(
      invalidConfig("new Keyring(): the current key must be { id, secret } (got null)"),
    );
    expect(() => new Keyring({ id: "k", secret: "s".repeat(32) }, 5 as never)).toThrow(
      invalidConfig("previous must be an array of keys (got 5)"),
    );
  });

  it('ids given to the agents\' calls must be non-empty strings: registerWorker(5) registered a worker "5"', async () => {
    await expect(distributor.registerWorker(5 as never)).rejects.toThrow(
      invalidArgument("registerWorker: workerId must be a non-empty string (got 5)"),
    );
    await expect(
      distributor.assignTaskToWorker(new Task({ taskId: "x", taskType: "echo" }), 5 as never),
    ).rejects.toThrow(invalidArgument("assignTaskToWorker: workerId must be a non-empty string (got 5)"));
    await expect(
      coordinator.assignTaskToDistributor({ task_id: "y", task_type: "echo" }, 5 as never),
    ).rejects.toThrow(
      invalidArgument("assignTaskToDistributor: distributorId must be a non-empty string (got 5)"),
    );
    await expect(coordinator.getDistributorState(5 as never)).rejects.toThrow(
      invalidArgument("getDistributorState"),
    );
    await expect(coordinator.removeSchedule(5 as never)).rejects.toThrow(
      invalidArgument("removeSchedule: scheduleId must be a non-empty string (got 5)"),
    );
    await expect(coordinator.getSchedule(null as never)).rejects.toThrow(invalidArgument("getSchedule"));
    await expect(coordinator.removeLimit(5 as never)).rejects.toThrow(invalidArgument("removeLimit"));
    // Nothing was recorded for the refused assignment.
    expect(await coordinator.waitForTask("y", 0)).toBeNull();
  });

  it('tickTaskId takes a schedule id and a time: tickTaskId(5, 5) was "5@1970-01-01T00:00:00.005Z"', () => {
    expect(tickTaskId("nightly", Date.UTC(2026, 0, 2, 3))).toBe("nightly@2026-01-02T03:00:00.000Z");
    expect(() => tickTaskId(5 as never, 5)).toThrow(
      invalidArgument("tickTaskId: scheduleId must be a non-empty string (got 5)"),
    );
    expect(() => tickTaskId("", 5)).toThrow(
      invalidArgument('scheduleId must be a non-empty string (got "")'),
    );
    for (const [tick, shown] of [
      ["5", '"5"'],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [9e15, "9000000000000000"],
    ] as const) {
      expect(() => tickTaskId("nightly", tick as never)).toThrow(
        invalidArgument(`tickTaskId: tickMs must be a time in milliseconds since the epoch (got ${shown})`),
      );
    }
  });

  it("LocalAgentState: updates, history entries and local var keys of the wrong type are refused", () => {
    const state = new LocalAgentState({ agentId: "a" });
    state.addTask(new Task({ taskId: "t", taskType: "echo" }));
    expect(() => state.updateTask("t", 5 as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_TASK",
        message: "task t: updates must be an object (got 5)",
      }),
    );
    expect(() => state.addHistoryEntry(5 as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_STATE",
        message: "a history entry must be an object (got 5)",
      }),
    );
    expect(() => state.addHistoryEntry(["x"] as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_STATE" }),
    );
    expect(() => state.setLocalVar(5 as never, 1)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_STATE",
        message: "setLocalVar needs a string key (got 5)",
      }),
    );
    expect(state.updateTask("t", { payload: { a: 1 } })).toBe(true);
  });
});
