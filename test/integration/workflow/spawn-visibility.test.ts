import { afterEach, describe, expect, it } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import type { JsonValue, Task } from "../../../src/index.js";
import { CoordinatorAgent } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * SPEC "Workflows": the tasks a handler spawns are "recorded in the same atomic step as this
 * attempt's commit", and a spawned task "may depend on ... tasks that exist". The commit writes
 * the spawn list on the parent's record and the coordinator's workflow keeper records the
 * children afterwards (they may live in other shards), so nothing may show the parent ended
 * before its children exist: not waitForTask, not GET /tasks/:id (?wait or not), not the
 * terminal event of GET /tasks/:id/events, not another coordinator. Right when each says the
 * parent completed, every child it returned is readable, a task may depend on it, and a cancel
 * of it ends it abandoned.
 *
 * The window is made deterministic: every coordinator's keeper reads an ended task's after-end
 * state (TaskLedger.endedTask, the first step of recording its spawned tasks) KEEPER_DELAY_MS late.
 */

const KEEPER_DELAY_MS = 300;
const CHILDREN = 3;

const handlers = {
  /** Spawns CHILDREN `hold` tasks and returns their ids. */
  fan: (_task: Task, ctx: HandlerContext): JsonValue => ({
    children: ctx.spawn(Array.from({ length: CHILDREN }, (_, i) => ({ task_type: "hold", payload: { i } }))),
  }),
  /** Runs 1 s, or until canceled. */
  hold: (_task: Task, ctx: HandlerContext): Promise<JsonValue> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve("held"), 1000);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(null);
      });
    }),
  ok: (): JsonValue => "ok",
};

/** Every settle of `coordinator`'s workflow keeper starts KEEPER_DELAY_MS late. */
function slowKeeper(coordinator: CoordinatorAgent): void {
  const ledger = coordinator.ledger;
  const read = ledger.endedTask.bind(ledger);
  ledger.endedTask = async (taskId: string) => {
    await new Promise((r) => setTimeout(r, KEEPER_DELAY_MS));
    return read(taskId);
  };
}

type Event = { type: string; task: Record<string, JsonValue> };

/** The events of a text/event-stream body, until it ends; `onEvent` runs as each comes. */
async function readEvents(res: Response, onEvent: (e: Event) => Promise<void> | void): Promise<Event[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Event[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6));
      if (data.length > 0) {
        const event = JSON.parse(data.join("\n")) as Event;
        events.push(event);
        await onEvent(event);
      }
      end = buffer.indexOf("\n\n");
    }
  }
}

describe.each(testEngines("spawn-visible", { cluster: true }))(
  "a parent's end shows only once its spawned tasks exist, on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);
    let server: RunningServer | undefined;
    let other: CoordinatorAgent | undefined;
    // Registered after clusterPerTest's: runs before the cluster stops.
    afterEach(async () => {
      await server?.close();
      server = undefined;
      await other?.cleanup();
      other = undefined;
    });

    async function start(): Promise<TestCluster> {
      const c = newCluster({ handlers: handlers as unknown as Record<string, never> });
      await c.startOne();
      slowKeeper(c.coordinator);
      return c;
    }

    /**
     * What must hold right when the parent is shown ended, checked at once: each child is
     * readable (a child of the parent), a task depending on the first is accepted, and a cancel
     * of the second ends it (abandoned, never completed).
     */
    async function childrenExist(c: TestCluster, parent: string, children: string[], via = c.coordinator) {
      expect(children).toHaveLength(CHILDREN);
      const dependent = c.id(`after-${parent}`);
      const [records, accepted, canceled] = await Promise.all([
        Promise.all(children.map((id) => via.ledger.get(id))),
        via.submitTask({ task_id: dependent, task_type: "ok", depends_on: [children[0]!] }).catch((e) => e),
        via.cancelTask(children[1]!),
      ]);
      expect(records.map((r) => r?.task.parent_id ?? null)).toEqual(children.map(() => parent));
      expect(accepted).toBe(true);
      expect(canceled).toBe(true);
      expect(await c.coordinator.waitForTask(children[1]!, 10_000)).toMatchObject({
        status: "abandoned",
        error: "canceled by client",
      });
      expect(await c.coordinator.waitForTask(dependent, 10_000)).toMatchObject({ status: "completed" });
      expect(await c.coordinator.waitForTask(children[2]!, 10_000)).toMatchObject({ status: "completed" });
    }

    it("waitForTask (the distributor's report names the parent; a plain task's end costs no read)", async () => {
      const c = await start();
      const core = c.coordinator.core;
      const reported: string[] = [];
      const onTerminal = core.onTerminal.bind(core);
      core.onTerminal = (from, tasks, spawns) => {
        reported.push(...(spawns ?? []));
        onTerminal(from, tasks, spawns);
      };
      const parent = c.id("fan-wait");
      await c.coordinator.submitTask({ task_id: parent, task_type: "fan" });
      const done = await c.coordinator.waitForTask(parent, 10_000);
      expect(done).toMatchObject({ status: "completed" });
      await childrenExist(c, parent, (done!.result as { children: string[] }).children);
      expect(reported).toEqual([parent]);

      // A task that spawned nothing: its waiter is answered from the report, nothing read for it.
      const ledger = c.coordinator.ledger;
      const readIds: string[] = [];
      const get = ledger.get.bind(ledger);
      const getMany = ledger.getMany.bind(ledger);
      const endedTask = ledger.endedTask.bind(ledger);
      ledger.get = (id) => {
        readIds.push(id);
        return get(id);
      };
      ledger.getMany = (ids) => {
        readIds.push(...ids);
        return getMany(ids);
      };
      ledger.endedTask = (id) => {
        readIds.push(id);
        return endedTask(id);
      };
      const plain = c.id("plain");
      await c.coordinator.submitTask({ task_id: plain, task_type: "ok" });
      expect(await c.coordinator.waitForTask(plain, 10_000)).toMatchObject({ status: "completed" });
      expect(readIds).not.toContain(plain);
      expect(reported).toEqual([parent]);
    });

    it("GET /tasks/:id?wait=", async () => {
      const c = await start();
      server = await startCoordinatorServer(c.coordinator, { port: 0 });
      const waited = c.id("fan-rest-wait");
      await c.coordinator.submitTask({ task_id: waited, task_type: "fan" });
      const res = await fetch(`${server.url}/tasks/${waited}?wait=10000`);
      const body = (await res.json()) as { status: string; result: { children: string[] } };
      expect(body.status).toBe("completed");
      const reads = await Promise.all(body.result.children.map((id) => fetch(`${server!.url}/tasks/${id}`)));
      expect(reads.map((r) => r.status)).toEqual(body.result.children.map(() => 200));
      await childrenExist(c, waited, body.result.children);
    });

    it("GET /tasks/:id of a parent nobody waits for: the first read that shows it ended", async () => {
      const c = await start();
      server = await startCoordinatorServer(c.coordinator, { port: 0 });
      const polled = c.id("fan-rest-poll");
      await c.coordinator.submitTask({ task_id: polled, task_type: "fan" });
      let task: { status: string; result: { children: string[] } | null } | undefined;
      for (const deadline = performance.now() + 10_000; performance.now() < deadline; ) {
        task = (await fetch(`${server.url}/tasks/${polled}`).then((r) => r.json())) as typeof task;
        if (task!.status === "completed") break;
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(task?.status).toBe("completed");
      await childrenExist(c, polled, task!.result!.children);
    });

    it("the terminal event of GET /tasks/:id/events", async () => {
      const c = await start();
      server = await startCoordinatorServer(c.coordinator, { port: 0 });
      const parent = c.id("fan-events");
      await c.coordinator.submitTask({ task_id: parent, task_type: "fan" });
      const res = await fetch(`${server.url}/tasks/${parent}/events`);
      expect(res.status).toBe(200);
      let checked: Promise<void> | undefined;
      const events = await readEvents(res, (e) => {
        if (e.type !== "terminal") return;
        // Checked the moment the event arrives (the stream ends after it).
        checked = childrenExist(c, parent, (e.task.result as { children: string[] }).children);
        return checked;
      });
      expect(events.at(-1)).toMatchObject({ type: "terminal", task: { status: "completed" } });
      expect(checked).toBeDefined();
      await checked;
    });

    it("another coordinator's waitForTask", async () => {
      const c = await start();
      other = new CoordinatorAgent({
        agentId: c.id("coordinator-b"),
        redis: c.redis,
        a2a: { router: c.router },
        timing: FAST,
      });
      await other.initialize();
      slowKeeper(other);
      const parent = c.id("fan-other");
      await c.coordinator.submitTask({ task_id: parent, task_type: "fan" });
      const done = await other.waitForTask(parent, 10_000);
      expect(done).toMatchObject({ status: "completed" });
      await childrenExist(c, parent, (done!.result as { children: string[] }).children, other);
    });
  },
);
