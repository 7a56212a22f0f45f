import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { PACKED_TASKS } from "../../../src/agents/packed-tasks.js";
import type { JsonObject } from "../../../src/core/json.js";
import type { CoordinatorAgent, WorkerAgent } from "../../../src/index.js";
import { type HttpTriad, httpTriad } from "../../helpers/http-triad.js";

/**
 * Between processes the tiers send their task lists as columns (src/agents/packed-tasks.ts),
 * each to a peer whose message stream said it reads them. Three tiers over HTTP, no router: one
 * worker of this release and one that reads no codec (as a worker of an earlier release): every
 * task completes with its own result, the packed lists of all three kinds were decoded on the
 * way, and the older worker was only ever sent lists of dicts.
 */

describe("task lists as columns between processes", () => {
  let triad: HttpTriad;
  let run: string;
  let coordinator: CoordinatorAgent;
  let older: WorkerAgent;
  /** event_type of every packed payload decoded, by the receiving side's codec. */
  const decoded: string[] = [];

  beforeAll(async () => {
    const decode = PACKED_TASKS.decode;
    vi.spyOn(PACKED_TASKS, "decode").mockImplementation((payload) => {
      const data = payload.event_data as JsonObject | undefined;
      if (data?.packed !== undefined) decoded.push(String(payload.event_type));
      return decode(payload);
    });
    const tag = Math.random().toString(36).slice(2, 7);
    triad = await httpTriad({
      redis: { url: `memory://packed-wire-${process.pid}-${tag}` },
      handlers: {},
      secret: "packed-wire-secret",
      worker: { concurrency: 16 },
      // No codec: no Triad-Payload-Codec on its streams, and nothing packed is read.
      moreWorkers: [{ name: "old", a2a: { payloadCodec: undefined } }],
    });
    ({ run, coordinator } = triad);
    older = triad.moreWorkers[0]!;
  }, 30_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await triad?.cleanup();
  });

  it("runs every task through both workers, the lists packed wherever the peer reads them", async () => {
    const toOlder = vi.spyOn(older, "processMessage");
    const rounds = 6;
    const all: Array<{ task_id: string; task_type: string; payload: JsonObject }> = [];
    for (let r = 0; r < rounds; r++) {
      const batch = Array.from({ length: 50 }, (_, i) => ({
        task_id: `p-${run}-${r}-${i}`,
        task_type: "echo",
        payload: { r, i, text: "x".repeat(i) },
      }));
      all.push(...batch);
      await coordinator.submitTasks(batch);
      await Promise.all(batch.map((t) => coordinator.waitForTask(t.task_id, 15_000)));
    }
    // A task with a dependency has a member a column does not carry: its lists go as dicts.
    const first = all[0]!.task_id;
    const dependent = {
      task_id: `dep-${run}`,
      task_type: "echo",
      payload: { dep: true },
      depends_on: [first],
    };
    await coordinator.submitTask(dependent);
    all.push(dependent);
    const done = await Promise.all(all.map((t) => coordinator.waitForTask(t.task_id, 15_000)));
    done.forEach((t, k) => {
      expect(t).toMatchObject({ status: "completed", result: all[k]!.payload });
    });
    expect(new Set(decoded)).toEqual(new Set(["assign_tasks", "execute_tasks", "task_terminal"]));
    // The worker that reads no codec ran its share, from lists of dicts only (it cannot read packed ones).
    expect(done.filter((t) => t?.assigned_to === older.agentId).length).toBeGreaterThan(0);
    const executes = toOlder.mock.calls
      .map(([m]) => m.payload)
      .filter((p) => p.event_type === "execute_tasks");
    expect(executes.length).toBeGreaterThan(1);
    for (const p of executes) {
      expect(p.event_data).toHaveProperty("tasks");
      expect(p.event_data).not.toHaveProperty("packed");
    }
  }, 60_000);
});
