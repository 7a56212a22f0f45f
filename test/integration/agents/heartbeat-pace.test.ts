import { describe, expect, it } from "vitest";
import {
  type A2AMessage,
  A2ARouter,
  CoordinatorAgent,
  DistributorAgent,
  WorkerAgent,
} from "../../../src/index.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { FAST } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor whose heartbeat interval is not shorter than its coordinator's heartbeat timeout
 * is declared dead between heartbeats, again and again (its tasks moved each time). Each process
 * accepts its own timing; the coordinator hears the interval in the heartbeat and says so.
 */
describe("a distributor that heartbeats no faster than its coordinator's timeout", () => {
  it("is warned of in the coordinator's log, naming both values, once", async () => {
    const logs: LogEntry[] = [];
    /** Heartbeats delivered, per sender. */
    const beats = new Map<string, number>();
    const router = new (class extends A2ARouter {
      override deliver(message: A2AMessage, ...rest: unknown[]) {
        if (message.type === "heartbeat") beats.set(message.sender, (beats.get(message.sender) ?? 0) + 1);
        return (super.deliver as (...a: unknown[]) => ReturnType<A2ARouter["deliver"]>)(message, ...rest);
      }
    })();
    const redis = { url: `memory://heartbeat-pace-${process.pid}`, keyPrefix: `hp-${Date.now()}:` };
    const suffix = Math.random().toString(36).slice(2, 7);
    const coordinator = new CoordinatorAgent({
      agentId: `coordinator-${suffix}`,
      redis,
      a2a: { router },
      timing: { ...FAST, heartbeatTimeoutMs: 400 },
      logger: captureLogger(logs),
    });
    const fine = new DistributorAgent({
      agentId: `fine-${suffix}`,
      coordinatorId: coordinator.agentId,
      redis,
      a2a: { router },
      timing: { ...FAST, heartbeatIntervalMs: 100 },
    });
    // Its own timing is consistent (1500 > 500): only the coordinator knows both numbers.
    const slow = new DistributorAgent({
      agentId: `slow-${suffix}`,
      coordinatorId: coordinator.agentId,
      redis,
      a2a: { router },
      timing: { ...FAST, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500, leaseTtlMs: 1500 },
    });
    const warnings = () =>
      logs.filter(
        (e) => e.level === "warn" && e.msg.includes("heartbeats every") && e.msg.includes("not less than"),
      );
    try {
      await coordinator.initialize();
      await fine.initialize();
      await slow.initialize();
      await until("the coordinator warns of the slow distributor", () => warnings().length > 0, 5_000);
      // Three more of its heartbeats: still one warning.
      const before = beats.get(slow.agentId) ?? 0;
      await until(
        "three more heartbeats of the slow distributor",
        () => (beats.get(slow.agentId) ?? 0) >= before + 3,
      );
      expect(warnings()).toHaveLength(1);
      const [w] = warnings();
      expect(w!.fields).toMatchObject({
        distributor: slow.agentId,
        heartbeat_interval_ms: 500,
        heartbeat_timeout_ms: 400,
      });
      expect(w!.msg).toContain("every 500 ms");
      expect(w!.msg).toContain("heartbeat timeout of 400 ms");
      expect(warnings().some((e) => e.fields.distributor === fine.agentId)).toBe(false);
    } finally {
      await slow.cleanup();
      await fine.cleanup();
      await coordinator.cleanup();
    }
  }, 30_000);

  it("a worker that heartbeats no faster than its distributor's timeout is warned of in the distributor's log", async () => {
    const logs: LogEntry[] = [];
    const router = new A2ARouter();
    const redis = { url: `memory://heartbeat-pace-w-${process.pid}`, keyPrefix: `hpw-${Date.now()}:` };
    const suffix = Math.random().toString(36).slice(2, 7);
    const coordinator = new CoordinatorAgent({
      agentId: `c-${suffix}`,
      redis,
      a2a: { router },
      timing: FAST,
    });
    const distributor = new DistributorAgent({
      agentId: `d-${suffix}`,
      coordinatorId: coordinator.agentId,
      redis,
      a2a: { router },
      timing: { ...FAST, heartbeatTimeoutMs: 400 },
      logger: captureLogger(logs),
    });
    const worker = new WorkerAgent({
      agentId: `w-${suffix}`,
      distributorId: distributor.agentId,
      a2a: { router },
      timing: { ...FAST, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 1500, leaseTtlMs: 1500 },
    });
    try {
      await coordinator.initialize();
      await distributor.initialize();
      await worker.initialize();
      const warning = () =>
        logs.find(
          (e) =>
            e.level === "warn" && e.msg.includes("heartbeats every") && e.fields.worker === worker.agentId,
        );
      await until("the distributor warns of the slow worker", () => warning() !== undefined, 5_000);
      expect(warning()!.fields).toMatchObject({ heartbeat_interval_ms: 500, heartbeat_timeout_ms: 400 });
      expect(warning()!.msg).toContain("heartbeat timeout of 400 ms");
    } finally {
      await worker.cleanup();
      await distributor.cleanup();
      await coordinator.cleanup();
    }
  }, 30_000);
});
