import { GetTaskRequest, SubscribeToTaskRequest } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CoordinatorAgent } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { taskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { describeEvent, stateName } from "../../helpers/a2a-sdk.js";
import { holdCancelUntilEndedElsewhere } from "../../helpers/cancel-held.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { streamedEvents as streamed, within } from "../../helpers/sse-events.js";
import { idOwnedBy, shardsSplit, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine. */
const WAIT_MS = 30_000;
/** How long the task would run uncanceled: far longer than the test. */
const RUN_MS = 120_000;

type Task = Record<string, unknown>;

/**
 * A cancel through coordinator A that another coordinator, B, ends first (DESIGN "Several
 * coordinators", "A cancel another coordinator ends"): A marks the task canceled in the store,
 * B's monitor tick walks the cancel's frontier and abandons it, and A's own abandon then finds it
 * ended. Made certain, not looped for: A's cancel is held between its mark and its abandon until
 * the store shows the task ended, and A's own frontier sweep is held meanwhile (so B's tick is the
 * one that ends it). The task runs, in a shard B owns, accepted by A or by B. What a user of A
 * sees: the cancel answered as done (200, the canceled task), its event stream's terminal event,
 * its waitForTask and ?wait= (asked before the cancel, and after) answered with the canceled
 * task, its A2A gateway's SubscribeToTask stream (opened before) ending on the CANCELED status
 * and its GetTask answering CANCELED; the end counted once — by B, which heard it first-hand, not by A — in the cluster's
 * counts too, and listed by A's cluster-wide list (from B's window).
 */
describe.each(testEngines("cancel-ended-elsewhere"))(
  "a cancel another coordinator ends first, on $name",
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

    it.each(["A", "B"] as const)(
      "submitted through %s, canceled through A, ended by B's tick (B owns its shard): A delivers the canceled end",
      async (accepter) => {
        const { c1: a, c2: b, d } = await twoCoordinators(engine.config(), cleanups);
        const [sa] = await Promise.all([serve(a), serve(b)]);
        // A task of a shard B owns: A takes no owner's step on it.
        await shardsSplit(a, b);
        const id = idOwnedBy(b, "ce", a);
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

        // What a user of A opened before the cancel: an event stream, a ?wait=, a waitForTask.
        const stream = await fetch(`${sa.url}/tasks/${id}/events`);
        expect(stream.status).toBe(200);
        const events = streamed(stream);
        const longPoll = fetch(`${sa.url}/tasks/${id}?wait=${WAIT_MS}`).then(
          async (r) => (await r.json()) as Task,
        );
        const waited = a.waitForTask(id, WAIT_MS);
        // (Handled now: a failure below must not leave them to reject unhandled; awaited later.)
        for (const p of [events, longPoll, waited]) p.catch(() => {});
        // And an A2A client of A's gateway following the task (SubscribeToTask), its stream
        // open (its first event, the task as it is, read) before the cancel.
        const client = await new ClientFactory().createFromUrl(sa.url);
        const followed: string[] = [];
        const following = (async () => {
          for await (const event of client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id })))
            followed.push(describeEvent(event));
          return followed;
        })();
        following.catch(() => {});
        await until("A's A2A stream has the task", () => followed.length > 0, WAIT_MS);

        // A's own sweep of the cancel frontier is held, and A's cancel waits after its mark until
        // B's tick has ended the task in the store: B's tick is the one to end it.
        const held = holdCancelUntilEndedElsewhere(a, id, WAIT_MS);

        const canceled = await fetch(`${sa.url}/tasks/${id}/cancel`, { method: "POST" });
        expect(held()).toBeGreaterThan(0); // the hold above was passed
        expect(canceled.status).toBe(200); // this cancel's mark is what ended it: canceled, not 409
        // B ended it: B heard the end first-hand and counts it (its walk counts just after the
        // store's step: waited for, not assumed done by the time A answered).
        await until("B counted the abandon", () => b.core.stats.abandoned === 1, WAIT_MS);
        const canceledEnd = { task_id: id, status: "abandoned", error: "canceled by client" };
        expect(await canceled.json()).toMatchObject(canceledEnd);
        expect(await waited).toMatchObject(canceledEnd);
        expect(await longPoll).toMatchObject(canceledEnd);
        const seen = await within("A's event stream ended after its terminal event", events, WAIT_MS);
        expect(seen[0]).toMatchObject({ type: "snapshot", task: { status: "in_progress" } });
        expect(seen.at(-1)).toMatchObject({ type: "terminal", task: canceledEnd });
        // A's A2A surfaces: the stream ends on the canceled status, GetTask answers it canceled.
        const a2aSeen = await within("A's A2A stream ended after its terminal status", following, WAIT_MS);
        expect(a2aSeen[0]).toBe("task:TASK_STATE_WORKING");
        expect(a2aSeen.at(-1)).toBe("status:TASK_STATE_CANCELED");
        const a2aTask = await client.getTask(GetTaskRequest.fromJSON({ id }));
        expect(stateName(a2aTask.status?.state)).toBe("TASK_STATE_CANCELED");
        // And asked after the cancel.
        expect(await a.waitForTask(id, WAIT_MS)).toMatchObject(canceledEnd);
        const after = await fetch(`${sa.url}/tasks/${id}?wait=${WAIT_MS}`);
        expect(await after.json()).toMatchObject(canceledEnd);

        // Counted once in the whole cluster: by B's counter (A heard it second-hand and does not
        // count it), and by the store. Only once the attempt's late outcome (its signal fired by
        // B's cancel_attempts) was refused by the fence: nothing can count it after that.
        await until("the attempt's late outcome is refused", () => d.core.stats.staleRejected >= 1, WAIT_MS);
        expect(a.core.stats.abandoned).toBe(0);
        expect(b.core.stats.abandoned).toBe(1);
        await until("A's cluster counts have the abandon", () => taskCounts(a).abandoned >= 1, WAIT_MS);
        expect(taskCounts(a)).toMatchObject({ submitted: 1, abandoned: 1 });
        // A's cluster-wide list of ended tasks has it (from B's window).
        await until(
          "A's cluster-wide list has the canceled task",
          async () => {
            const list = (await (await fetch(`${sa.url}/tasks?status=abandoned`)).json()) as {
              tasks: Task[];
            };
            return list.tasks.some((t) => t.task_id === id && t.error === "canceled by client");
          },
          WAIT_MS,
        );
      },
      120_000,
    );
  },
);
