import { afterEach, describe, expect, it, vi } from "vitest";
import { TaskWatch } from "../../../src/agents/live/task-changes.js";
import type { CoordinatorAgent } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { holdCancelUntilEndedElsewhere } from "../../helpers/cancel-held.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { streamedEvents as streamed, within } from "../../helpers/sse-events.js";
import { idOwnedBy, shardsSplit, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine. */
const WAIT_MS = 30_000;
/** How long a task runs uncanceled: far longer than the test. */
const RUN_MS = 120_000;

type Task = Record<string, unknown>;
type Step = Record<string, unknown> & { event: string; at: string };

/** A coordinator's task page: the task and its timeline (GET /tasks/:id/history). */
async function taskPage(server: RunningServer, id: string): Promise<{ task: Task; timeline: Step[] }> {
  const res = await fetch(`${server.url}/tasks/${id}/history`);
  expect(res.status).toBe(200);
  return (await res.json()) as { task: Task; timeline: Step[] };
}

const ENDS = new Set(["committed", "abandoned"]);

/**
 * What coordinator A shows of a task another coordinator, B, ended (DESIGN "Several
 * coordinators", "A cancel another coordinator ends"): A's task page (GET /tasks/:id/history)
 * has the end step, as the store recorded it, and not only the task dict; A's event streams are
 * told of the end when A hears of it (B's news), not at their next read of the store — here the
 * streams' reads of the store every quarter second are held for the whole test, so only a nudge
 * can deliver the terminal event. The end stays counted by B only.
 */
describe.each(testEngines("end-heard-elsewhere"))(
  "what a coordinator shows of an end another made, on $name",
  (engine) => {
    const cleanups = stopsPerTest(engine);
    afterEach(() => {
      vi.restoreAllMocks();
    });

    const serve = async (c: CoordinatorAgent): Promise<RunningServer> => {
      const server = await startCoordinatorServer(c, { port: 0 });
      cleanups.push(() => server.close());
      return server;
    };

    /** Two coordinators serving HTTP, their streams' store polls held, and a task id of a shard B owns. */
    const setUp = async (prefix: string) => {
      // Event streams read the store on open, then only when nudged (their quarter-second poll held).
      vi.spyOn(TaskWatch.prototype as unknown as { tick: () => Promise<void> }, "tick").mockResolvedValue(
        undefined,
      );
      const pair = await twoCoordinators(engine.config(), cleanups);
      const { c1: a, c2: b } = pair;
      const [sa, sb] = await Promise.all([serve(a), serve(b)]);
      await shardsSplit(a, b);
      const id = idOwnedBy(b, prefix, a);
      return { ...pair, a, b, sa, sb, id };
    };

    it.each(["A", "B"] as const)(
      "submitted through %s, canceled through A, ended by B's tick: A's page has the end step, A's stream is told at once",
      async (accepter) => {
        const { a, b, sa, sb, id } = await setUp("he");
        await (accepter === "A" ? a : b).submitTask({
          task_id: id,
          task_type: "sleep",
          payload: { ms: RUN_MS },
        });
        await until(
          "the task runs",
          async () => (await a.core.getTask(id))?.status === "in_progress",
          WAIT_MS,
        );

        // A user of A follows the task (its stream) and waits for it (A asks the others to tell of its end).
        const stream = await fetch(`${sa.url}/tasks/${id}/events`);
        expect(stream.status).toBe(200);
        const events = streamed(stream);
        const waited = a.waitForTask(id, WAIT_MS);
        // What A's observer says of the end (its feed's and streams' source).
        const heard: string[] = [];
        a.observer.on((activity) => {
          if ("task" in activity && activity.task.task_id === id) heard.push(activity.type);
        });
        for (const p of [events, waited]) p.catch(() => {});

        // B's tick is the one to end the task: A's sweep of the cancel frontier is held, and A's
        // cancel waits after its mark until the store shows the end (cancel-ended-elsewhere.test.ts).
        const held = holdCancelUntilEndedElsewhere(a, id, WAIT_MS);
        const canceled = await fetch(`${sa.url}/tasks/${id}/cancel`, { method: "POST" });
        expect(held()).toBeGreaterThan(0);
        expect(canceled.status).toBe(200);
        const canceledEnd = { task_id: id, status: "abandoned", error: "canceled by client" };
        expect(await waited).toMatchObject(canceledEnd);

        // A's stream has its terminal event though it never read the store again by itself.
        const seen = await within("A's event stream ended after its terminal event", events, WAIT_MS);
        expect(seen[0]).toMatchObject({ type: "snapshot", task: { status: "in_progress" } });
        expect(seen.at(-1)).toMatchObject({ type: "terminal", task: canceledEnd });

        // A's task page ends as B's does: one end step, the cancel, when the store recorded it.
        await until("B counted the abandon", () => b.core.stats.abandoned === 1, WAIT_MS);
        for (const server of [sa, sb]) {
          const page = await taskPage(server, id);
          expect(page.task).toMatchObject(canceledEnd);
          const ends = page.timeline.filter((s) => ENDS.has(s.event));
          expect(ends).toHaveLength(1);
          expect(page.timeline.at(-1)).toMatchObject({ event: "abandoned", reason: "canceled by client" });
          expect(Number.isNaN(Date.parse(page.timeline.at(-1)!.at))).toBe(false);
        }
        const endOnA = (await taskPage(sa, id)).timeline.at(-1)!;
        expect(endOnA.at).toBe((await a.core.getTask(id))!.completed_at);
        // Said once (a waiter's read after the end says it no more), as heard elsewhere, and
        // shown, not counted: the end stays B's.
        expect(await a.waitForTask(id, WAIT_MS)).toMatchObject(canceledEnd);
        expect(heard).toEqual(["ended_elsewhere"]);
        expect(a.core.stats.abandoned).toBe(0);
        expect(b.core.stats.abandoned).toBe(1);
      },
      120_000,
    );

    it("a task B accepted and completed, never watched by A: A's page has its committed step", async () => {
      const { a, b, sa, id } = await setUp("hc");
      await b.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 10 } });
      expect(await b.waitForTask(id, WAIT_MS)).toMatchObject({ status: "completed" });
      const task = (await a.core.getTask(id))!;
      const page = await taskPage(sa, id);
      expect(page.timeline.map((s) => s.event)).toEqual(["started", "committed"]);
      expect(page.timeline.at(-1)).toMatchObject({
        event: "committed",
        status: "completed",
        at: task.completed_at,
        attempt: 1,
        worker: task.assigned_to,
      });
      await until("B counted the end", () => b.core.stats.completed === 1, WAIT_MS);
      expect(a.core.stats.completed).toBe(0);
    }, 120_000);
  },
);
