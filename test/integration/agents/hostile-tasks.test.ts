import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { type JsonObject, MAX_PAYLOAD_DEPTH } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * Every accepted task ends, whatever it is called and however deep it nests, and it never holds
 * back the innocent tasks it travels with (issue 21, items 2 and 3). Found by an adversarial
 * run: a task type named after a member of Object.prototype was stored without a retry limit
 * and retried for ever; a payload too deep for a signed message was accepted, and its batch —
 * innocent tasks included — was dispatched again for ever.
 */

/** `levels` containers deep: { a: { a: ... { a: 1 } } }. */
const deep = (levels: number): JsonObject => {
  let v: JsonObject = { a: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
};

/** Within this long every task here must be terminal (retries back off 20 ms, 40 ms). */
const BOUND_MS = 10_000;

describe.each(testEngines("hostile-tasks"))("hostile tasks on $name", (engine) => {
  let cluster: TestCluster | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  const start = async () => {
    cluster = new TestCluster(engine.config(), {
      // Nothing here is about failure detection: a worker or distributor falsely declared dead on
      // a loaded host (400 ms of silence) would have its attempts taken back and run again, and
      // "not retried" (attempts: 1) could not be told from that.
      timing: { ...FAST, heartbeatTimeoutMs: 20_000 },
      handlers: {
        // Deeper than a task's result may be: the attempt fails, with the reason.
        deep_result: () => deep(MAX_PAYLOAD_DEPTH + 8),
        // Shallow until converted (toJSON), then too deep for any message: replaced by a failure.
        deep_on_the_wire: () => ({ toJSON: () => deep(70) }) as never,
      },
    });
    await cluster.startOne();
    return cluster;
  };

  const innocents = (c: TestCluster, tag: string, n = 5) =>
    Array.from({ length: n }, (_, i) => ({
      task_id: c.id(`${tag}-ok-${i}`),
      task_type: "echo",
      payload: { i },
    }));

  /** Waits for every id to end; the terminal dicts by id. */
  const ends = async (c: TestCluster, ids: string[]) => {
    const done = await Promise.all(ids.map((id) => c.coordinator.waitForTask(id, BOUND_MS)));
    const byId = new Map<string, Record<string, unknown>>();
    done.forEach((task, i) => {
      expect(task, `task ${ids[i]} did not end within ${BOUND_MS} ms`).not.toBeNull();
      byId.set(ids[i]!, task as Record<string, unknown>);
    });
    return byId;
  };

  it("a task type named after Object.prototype's members fails as unknown; its batch-mates complete", async () => {
    const c = await start();
    const hostile = ["toString", "__proto__", "constructor", "hasOwnProperty", "valueOf"].map((type) => ({
      task_id: c.id(`type-${type}`),
      task_type: type,
      payload: {},
    }));
    const ops = ["constructor", "toString"].map((operation) => ({
      task_id: c.id(`op-${operation}`),
      task_type: "compute",
      payload: { operation, values: [1, 2] },
    }));
    const ok = innocents(c, "types");
    expect(await c.coordinator.submitTasks([...hostile, ...ops, ...ok])).toEqual(
      Array(hostile.length + ops.length + ok.length).fill(true),
    );
    const done = await ends(
      c,
      [...hostile, ...ops, ...ok].map((t) => t.task_id),
    );
    for (const t of hostile) {
      expect(done.get(t.task_id)).toMatchObject({
        status: "failed",
        error: `unknown task type "${t.task_type}": no handler is registered for it on this worker`,
      });
    }
    for (const t of ops) {
      expect(done.get(t.task_id)).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/^compute: operation must be one of sum, product, mean, min, max/),
        // Wrong input fails the same way every time: not retried.
        attempts: 1,
      });
    }
    for (const t of ok) expect(done.get(t.task_id)).toMatchObject({ status: "completed", result: t.payload });
    // The default retry policy applied: two retries, then failed for good.
    expect(done.get(hostile[0]!.task_id)).toMatchObject({ attempts: 3 });
  });

  it("task ids named after Object.prototype's members run like any other", async () => {
    const c = await start();
    const named = ["__proto__", "constructor", "toString"].map((id) => ({
      task_id: id,
      task_type: "echo",
      payload: { id },
    }));
    await c.coordinator.submitTasks(named);
    const done = await ends(
      c,
      named.map((t) => t.task_id),
    );
    for (const t of named)
      expect(done.get(t.task_id)).toMatchObject({ status: "completed", result: t.payload });
  });

  it("a payload deeper than the limit is refused at submit; one at the limit runs", async () => {
    const c = await start();
    const refused = expect.objectContaining({
      code: "ERR_INVALID_TASK",
      message: expect.stringMatching(/payload is nested more than 32 levels deep/),
    });
    for (const levels of [MAX_PAYLOAD_DEPTH + 1, 60, 250, 10_000]) {
      const task = { task_id: c.id(`deep-${levels}`), task_type: "echo", payload: deep(levels) };
      await expect(c.coordinator.submitTask(task)).rejects.toThrow(refused);
      expect(await c.coordinator.ledger.get(task.task_id)).toBeNull();
    }
    const ok = innocents(c, "batch", 3);
    await expect(
      c.coordinator.submitTasks([
        ...ok,
        { task_id: c.id("deep-in-batch"), task_type: "echo", payload: deep(40) },
      ]),
    ).rejects.toThrow(refused);
    expect(await c.coordinator.ledger.get(ok[0]!.task_id)).toBeNull(); // a bad one records nothing

    const atLimit = { task_id: c.id("at-limit"), task_type: "echo", payload: deep(MAX_PAYLOAD_DEPTH) };
    await c.coordinator.submitTask(atLimit);
    const done = await ends(c, [atLimit.task_id]);
    expect(done.get(atLimit.task_id)).toMatchObject({ status: "completed", result: atLimit.payload });
  });

  it("a result too deep to send fails its one task, with the reason; its batch-mates complete", async () => {
    const c = await start();
    const bad = [
      { task_id: c.id("deep-result"), task_type: "deep_result", payload: {} },
      { task_id: c.id("deep-on-the-wire"), task_type: "deep_on_the_wire", payload: {} },
    ];
    const ok = innocents(c, "results");
    await c.coordinator.submitTasks([...ok.slice(0, 2), ...bad, ...ok.slice(2)]);
    const done = await ends(
      c,
      [...bad, ...ok].map((t) => t.task_id),
    );
    expect(done.get(bad[0]!.task_id)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/the result is nested more than 32 levels deep/),
    });
    expect(done.get(bad[1]!.task_id)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/the outcome of the attempt cannot be sent: .*deeper than 64/),
    });
    for (const t of ok) expect(done.get(t.task_id)).toMatchObject({ status: "completed" });
  });

  it("past the entry checks, a task no message can carry ends abandoned, alone, with the reason", async () => {
    // Defence in depth: the coordinator's core takes what it is given. 61 levels do not fit in
    // assign_tasks; 60 do, but not in execute_tasks (one level deeper), where the distributor
    // meets them. Each ends abandoned; the innocent tasks batched with them complete.
    const c = await start();
    const fresh = (id: string, payload: Record<string, unknown>): TaskDict => ({
      assigned_to: null,
      attempts: 0,
      completed_at: null,
      created_at: new Date().toISOString(),
      error: null,
      payload: payload as TaskDict["payload"],
      result: null,
      started_at: null,
      status: "pending",
      task_id: id,
      task_type: "echo",
    });
    const ok = innocents(c, "unsendable", 6).map((t) => fresh(t.task_id, t.payload));
    const atCoordinator = fresh(c.id("unsendable-61"), deep(61));
    const atDistributor = fresh(c.id("unsendable-60"), deep(60));
    await c.coordinator.core.submitMany([
      ok[0]!,
      atCoordinator,
      ok[1]!,
      ok[2]!,
      atDistributor,
      ...ok.slice(3),
    ]);
    const done = await ends(
      c,
      [atCoordinator, atDistributor, ...ok].map((t) => t.task_id),
    );
    expect(done.get(atCoordinator.task_id)).toMatchObject({
      status: "abandoned",
      error: expect.stringMatching(/^cannot be sent to distributor .*: .*deeper than 64 levels/),
    });
    expect(done.get(atDistributor.task_id)).toMatchObject({
      status: "abandoned",
      error: expect.stringMatching(/^cannot be sent to .*w1.*: .*deeper than 64 levels/),
    });
    for (const t of ok) expect(done.get(t.task_id)).toMatchObject({ status: "completed" });
  });
});
