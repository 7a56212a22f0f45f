import { describe, expect, it, vi } from "vitest";
import type { AgentPayload } from "../../../src/agents/protocol.js";
import type { CoordinatorAgent, DistributorAgent, Task, WorkerAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, type TestEngine, testEngines } from "../../helpers/engines.js";
import { withHttpAgents } from "../../helpers/http-agents.js";
import { until } from "../../helpers/wait.js";

/**
 * A registration keeps what the agent stated of itself: the body limit a distributor's or a
 * worker's heartbeats (or registration) said it takes stays in force when it registers again
 * without saying (the seed's registerDistributor / registerWorker calls, an older release's
 * registration), instead of being forgotten until its next heartbeat — meanwhile a large
 * message to it went whole and was refused (413). registerDistributor and registerWorker may
 * state the limit too, and so does a worker's own registration (`max_body_bytes` on
 * register_worker, as on a distributor's): a job sent to it before its first heartbeat is held
 * to its limit, where it went whole to be refused by the worker (413).
 */

const SMALL = 64 * 1024;
const LARGE = 1024 * 1024;
/** A task's payload over SMALL, under LARGE. */
const BIG = 100 * 1024;
/** Heartbeats far apart: none comes to state a limit again while a test looks. */
const QUIET = { ...FAST, heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 };

/** The body limit `agent`'s transport holds messages to `peer` to (undefined: none stated). */
function peerLimit(agent: { a2a: unknown }, peer: string): number | undefined {
  return (agent.a2a as { http: { peerLimit(id: string): number | undefined } }).http.peerLimit(peer);
}

/** A coordinator, a distributor under SMALL and a worker under SMALL, over HTTP (no router). */
function withAgents(
  engine: TestEngine,
  work: (c: CoordinatorAgent, d: DistributorAgent, w: WorkerAgent) => Promise<void>,
  /** The distributor's body limit (the worker's is SMALL). */
  distributorLimit = SMALL,
): Promise<void> {
  return withHttpAgents(
    {
      engine,
      streams: true,
      secret: "registration-limits-secret",
      limits: { c: LARGE, d: distributorLimit },
      workers: [
        {
          limit: SMALL,
          handlers: { echo: (task: Task) => ({ length: String(task.payload.pad ?? "").length }) },
        },
      ],
      timing: QUIET,
      // The tests look at what each registration stated, before any heartbeat states it again.
      awaitHeartbeats: false,
    },
    ({ c, d, workers }) => work(c, d, workers[0]!),
  );
}

describe.each(testEngines("registration-limits"))("registrations on $name", (engine) => {
  clusterPerTest(engine);

  it("registerDistributor, and a registration that states no limit, keep the limit the distributor stated", async () => {
    await withAgents(engine, async (c, d) => {
      // Its registration at start stated it.
      expect(peerLimit(c, d.agentId)).toBe(SMALL);

      await c.registerDistributor(d.agentId, d.a2a.url!);
      expect(peerLimit(c, d.agentId)).toBe(SMALL);

      // An older release's registration: no max_body_bytes.
      const older = d as unknown as { bodyLimit: () => object; register(): Promise<void> };
      older.bodyLimit = () => ({});
      await older.register();
      expect(peerLimit(c, d.agentId)).toBe(SMALL);
    });
  }, 60_000);

  it("registerDistributor states a limit (maxBodyBytes), and refuses one that is not a positive integer", async () => {
    await withAgents(engine, async (c, d) => {
      await c.registerDistributor(d.agentId, d.a2a.url!, { maxBodyBytes: 50_000 });
      expect(peerLimit(c, d.agentId)).toBe(50_000);
      expect(c.core.directory.get(d.agentId)?.maxBodyBytes).toBe(50_000);
      // In one process (no URL): the directory keeps it, for the coordinators that hear of it.
      await c.registerDistributor("d-in-process", undefined, { maxBodyBytes: 40_000 });
      expect(c.core.directory.get("d-in-process")?.maxBodyBytes).toBe(40_000);

      for (const bad of [0, -1, 1.5, "1000", Number.NaN]) {
        await expect(
          c.registerDistributor(d.agentId, d.a2a.url!, { maxBodyBytes: bad as number }),
        ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
      }
      await expect(
        c.registerDistributor(d.agentId, d.a2a.url!, { maxBodySize: 1 } as never),
      ).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT" });
      expect(peerLimit(c, d.agentId)).toBe(50_000);
    });
  }, 60_000);

  it("registerWorker, and a worker's registration again, keep what the worker stated", async () => {
    await withAgents(engine, async (_c, d, w) => {
      await w.sendHeartbeat();
      expect(peerLimit(d, w.agentId)).toBe(SMALL);
      const entry = () => d.core.registry.get(w.agentId);
      expect(entry()?.url).toBe(w.a2a.url);

      // The worker registers again (its registration states no limit).
      await (w as unknown as { register(): Promise<void> }).register();
      expect(peerLimit(d, w.agentId)).toBe(SMALL);

      await d.registerWorker(w.agentId);
      expect(peerLimit(d, w.agentId)).toBe(SMALL);
      expect(entry()?.url).toBe(w.a2a.url);
    });
  }, 60_000);

  it("a worker's registration states its limit: a job over it before its first heartbeat is refused by the distributor itself, naming the limit", async () => {
    await withAgents(
      engine,
      async (c, d, w) => {
        // Registered (its first heartbeat is a minute away): held to the limit it stated.
        expect(d.core.registry.get(w.agentId)?.lastHeartbeatAt).toBeNull();
        expect(peerLimit(d, w.agentId)).toBe(SMALL);
        const id = `echo-${w.agentId}`;
        await c.submitTasks([{ task_id: id, task_type: "echo", payload: { pad: "p".repeat(BIG) } }]);
        // Read from the store: the coordinator hears of the end at its distributor's next heartbeat.
        const ended = async () => {
          const task = (await c.ledger.get(id))?.task;
          return task?.status === "abandoned" ? task : undefined;
        };
        await until("the task has ended", async () => (await ended()) !== undefined, 30_000);
        const done = await ended();
        expect(done).toMatchObject({
          status: "abandoned",
          // Before: sent whole, refused by the worker (413, ERR_A2A_REJECTED too_large).
          error: `cannot be sent to ${w.agentId}: message of ${String(done?.error).match(/message of (\d+) bytes/)?.[1]} bytes is over the body limit of ${SMALL} that ${w.agentId} takes`,
        });
        expect(w.a2a.stats().rejected.too_large ?? 0).toBe(0);
        expect(d.core.registry.get(w.agentId)?.lastHeartbeatAt).toBeNull();
      },
      LARGE,
    );
  }, 60_000);

  it("registerWorker states a limit (maxBodyBytes), kept by a registration that states none, and refuses one that is not a positive integer", async () => {
    await withAgents(engine, async (_c, d, w) => {
      await d.registerWorker(w.agentId, { maxBodyBytes: 50_000 });
      expect(peerLimit(d, w.agentId)).toBe(50_000);
      expect(d.core.registry.get(w.agentId)?.maxBodyBytes).toBe(50_000);
      await d.registerWorker(w.agentId);
      expect(peerLimit(d, w.agentId)).toBe(50_000);
      // Not heard yet (no address): kept on its entry, for when it registers without saying.
      await d.registerWorker("w-not-heard", { maxBodyBytes: 40_000 });
      expect(d.core.registry.get("w-not-heard")?.maxBodyBytes).toBe(40_000);

      for (const bad of [0, -1, 1.5, "1000", Number.NaN]) {
        await expect(d.registerWorker(w.agentId, { maxBodyBytes: bad as number })).rejects.toMatchObject({
          code: "ERR_INVALID_ARGUMENT",
        });
      }
      await expect(d.registerWorker(w.agentId, { maxBodySize: 1 } as never)).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
      await expect(d.registerWorker(w.agentId, 5 as never)).rejects.toMatchObject({
        code: "ERR_INVALID_ARGUMENT",
      });
      expect(peerLimit(d, w.agentId)).toBe(50_000);
    });
  }, 60_000);

  it("a heartbeat of an older release (no max_body_bytes) keeps the limit a registration stated; one that states a limit changes it", async () => {
    await withAgents(engine, async (c, d, w) => {
      // The worker, at its distributor: its heartbeats leave max_body_bytes out (an older release).
      const worker = w as unknown as { sendPayload(to: string, p: AgentPayload): Promise<void> };
      const send = worker.sendPayload.bind(w);
      worker.sendPayload = (to, p) => {
        const { max_body_bytes: _, ...older } = p as AgentPayload & { max_body_bytes?: number };
        return send(to, older as AgentPayload);
      };
      await d.registerWorker(w.agentId, { maxBodyBytes: 50_000 });
      const workerBeats = vi.spyOn(d.core, "onWorkerHeartbeat");
      expect(await w.sendHeartbeat()).toBe(true);
      await until("the worker's heartbeat is taken", () => workerBeats.mock.calls.length >= 1, 30_000);
      expect(workerBeats.mock.calls[0]![1].max_body_bytes).toBeUndefined();
      expect(d.core.registry.get(w.agentId)?.maxBodyBytes).toBe(50_000);
      expect(peerLimit(d, w.agentId)).toBe(50_000);
      // Its heartbeat that states a limit (this release's) changes it.
      worker.sendPayload = send;
      expect(await w.sendHeartbeat()).toBe(true);
      await until("the worker's limit is the one it stated", () => peerLimit(d, w.agentId) === SMALL, 30_000);
      expect(d.core.registry.get(w.agentId)?.maxBodyBytes).toBe(SMALL);

      // The distributor, at its coordinator: its heartbeats leave max_body_bytes out.
      const distributor = d as unknown as { bodyLimit: () => object; heartbeat(): Promise<void> };
      const bodyLimit = distributor.bodyLimit;
      distributor.bodyLimit = () => ({});
      await c.registerDistributor(d.agentId, d.a2a.url!, { maxBodyBytes: 50_000 });
      const distributorBeats = vi.spyOn(c.core, "onHeartbeat");
      await distributor.heartbeat();
      await until(
        "the distributor's heartbeat is taken",
        () => distributorBeats.mock.calls.length >= 1,
        30_000,
      );
      expect(distributorBeats.mock.calls[0]![1].max_body_bytes).toBeUndefined();
      expect(c.core.directory.get(d.agentId)?.maxBodyBytes).toBe(50_000);
      expect(peerLimit(c, d.agentId)).toBe(50_000);
      distributor.bodyLimit = bodyLimit;
      await distributor.heartbeat();
      await until(
        "the distributor's limit is the one it stated",
        () => peerLimit(c, d.agentId) === SMALL,
        30_000,
      );
      expect(c.core.directory.get(d.agentId)?.maxBodyBytes).toBe(SMALL);
    });
  }, 60_000);
});
