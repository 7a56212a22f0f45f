import { afterEach, describe, expect, it } from "vitest";
import { resolveSecret } from "../../../src/agents/agent-base.js";
import { DistributorAgent } from "../../../src/agents/distributor/distributor-agent.js";
import { A2AClient, MessageType } from "../../../src/index.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * A LangGraph attempt taken back (its worker declared dead under load, the attempt run again
 * elsewhere) may go on sending a checkpoint per step. Each is refused and counted (reason
 * `unauthorized`), but the log says so once per attempt, not once per checkpoint: found
 * probing with real processes, where one warn line per checkpoint flooded the distributor's log.
 */
describe("checkpoints of an attempt that was taken back", () => {
  let cluster: TestCluster | undefined;
  let d1: DistributorAgent | undefined;
  let stale: A2AClient | undefined;
  afterEach(async () => {
    await stale?.close();
    await d1?.cleanup().catch(() => {});
    await cluster?.stop();
    cluster = d1 = stale = undefined;
  });

  it("are each refused and counted, with one warn line per attempt", async () => {
    const redis = { url: `memory://stale-checkpoints-${process.pid}`, keyPrefix: uniquePrefix("sc") };
    cluster = new TestCluster(redis);
    await cluster.startCoordinator();
    const lines: LogEntry[] = [];
    d1 = new DistributorAgent({
      agentId: cluster.id("d1"),
      coordinatorId: cluster.coordinator.agentId,
      redis,
      a2a: { router: cluster.router },
      timing: FAST,
      logger: captureLogger(lines),
    });
    await d1.initialize();
    // The worker that ran the attempts, signing with the deployment's secret, delivering by hand.
    stale = new A2AClient({
      agentId: cluster.id("w-gone"),
      tokenSecret: resolveSecret(undefined),
      router: null,
    });
    const taskId = cluster.id("graph");
    const send = async (fence: number, step: number) => {
      const message = stale!.createMessage(
        d1!.agentId,
        { event_type: "checkpoint", event_data: { task_id: taskId, fence, checkpoint: { step } } },
        MessageType.EVENT,
      );
      expect(await d1!.a2a.handleMessage(message)).toBe(true);
    };
    for (let step = 0; step < 6; step++) await send(1, step);
    for (let step = 0; step < 4; step++) await send(2, step);
    await until("every checkpoint is refused", () => d1!.a2a.stats().rejected.unauthorized === 10);

    const warned = lines.filter((l) => l.level === "warn" && l.msg === "refused a message");
    expect(warned.length, "warn lines for 10 refused checkpoints of 2 attempts").toBe(2);
  });
});
