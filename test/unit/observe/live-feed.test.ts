import { afterEach, describe, expect, it, vi } from "vitest";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { CoordinatorAgent } from "../../../src/index.js";
import { LiveFeed, type Sample } from "../../../src/server/dashboard/live-feed.js";

/** The dashboard's series: one sample per second, quiet seconds included, and the notable events. */

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function task(id: string, status: TaskDict["status"], extra: Partial<TaskDict> = {}): TaskDict {
  return {
    task_id: id,
    task_type: "compute",
    payload: {},
    status,
    result: null,
    error: null,
    attempts: 1,
    assigned_to: "w1",
    created_at: new Date(T0).toISOString(),
    started_at: null,
    completed_at: null,
    ...extra,
  };
}

describe("LiveFeed", () => {
  let coordinator: CoordinatorAgent | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await coordinator?.a2a.close();
  });

  it("keeps one sample per second with its counts and latency percentiles, and the recent failures", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0 + 200);
    coordinator = new CoordinatorAgent({
      agentId: "feed-coordinator",
      redis: { url: "memory://live-feed" },
      a2a: { router: null },
    });
    const feed = new LiveFeed(coordinator);
    const events = coordinator.observer.coreEvents();
    for (const id of ["a", "b", "c"]) events.submitted?.(task(id, "pending"));
    events.terminal?.(task("a", "completed"));
    events.terminal?.(task("b", "completed"));
    events.terminal?.(task("c", "failed", { error: "it broke", attempts: 3 }));

    vi.setSystemTime(T0 + 3_100);
    const state = feed.snapshot() as { samples: Sample[]; failures: Array<Record<string, unknown>> };
    const t0 = T0 / 1000;
    expect(state.samples.map((s) => s.t)).toEqual([t0, t0 + 1, t0 + 2]);
    expect(state.samples[0]).toMatchObject({ submitted: 3, completed: 2, failed: 1, abandoned: 0 });
    expect(state.samples[0]!.p50).toBeGreaterThanOrEqual(0);
    expect(state.samples[0]!.p95).toBeGreaterThanOrEqual(state.samples[0]!.p50!);
    expect(state.samples[1]).toEqual({
      t: t0 + 1,
      submitted: 0,
      completed: 0,
      failed: 0,
      abandoned: 0,
      p50: null,
      p95: null,
    });
    expect(state.failures).toEqual([
      expect.objectContaining({ task_id: "c", status: "failed", error: "it broke", attempts: 3 }),
    ]);
    feed.close();
  });
});
