import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type JsonValue, type Task, type TaskHandler, type Timing, WorkerAgent } from "../../../src/index.js";
import { clusterTaskTypes } from "../../../src/server/a2a-gateway/cluster-task-types.js";
import { claimName } from "../../../src/server/a2a-gateway/message-claims.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { sendMessageRpc, taskPart } from "../../helpers/a2a-rpc.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * Right after a start the A2A gateway judges a message's task type once the workers have said
 * what they run. On a loaded machine the distributor and its workers can take far longer than
 * a few seconds to come up: the wait ends when they report, not on a short clock (it was 5 s:
 * a message for a type no worker runs was then taken on, and FAILED when the worker came). With
 * no distributor to wait for, it does not wait the minute out; and a type a registered worker
 * has not reported yet is not refused as unknown.
 */

type RpcAnswer = { result?: { task?: { id: string; status: { state: string } } }; error?: unknown };

/** The gateway's former fixed window: a start-up slower than this used to judge without the workers. */
const OLD_WINDOW_MS = 5000;
/** Longer than any test runs: a wait that only ends at such a ceiling fails the test (its timeout). */
const NEVER_MS = 600_000;

const tagged =
  (type: string): TaskHandler<Task> =>
  (task: Task): JsonValue => ({ type, tag: String((task.payload as { tag?: unknown }).tag) });

describe("A2A gateway start-up: the first messages wait for the workers' reports", () => {
  let cluster: TestCluster | undefined;
  let server: RunningServer | undefined;
  const extraWorkers: WorkerAgent[] = [];

  afterEach(async () => {
    await server?.close();
    for (const w of extraWorkers.splice(0)) await w.cleanup().catch(() => {});
    await cluster?.stop();
    server = undefined;
    cluster = undefined;
  });

  const startCluster = async (name: string, timing?: Timing) => {
    cluster = new TestCluster(
      { url: `memory://a2a-startup-settle-${name}-${process.pid}` },
      { handlers: { count: tagged("count") }, ...(timing ? { timing } : {}) },
    );
    await cluster.startCoordinator();
    return cluster;
  };

  const startServer = async (c: TestCluster, settleMs?: number, graceMs?: number) => {
    server = await startCoordinatorServer(c.coordinator, {
      port: 0,
      ...(settleMs !== undefined ? { a2aStartupSettleMs: settleMs } : {}),
      ...(graceMs !== undefined ? { a2aStartupGraceMs: graceMs } : {}),
    });
    return { url: server.url, startedAt: Date.now() };
  };

  /** A worker of its own on distributor `d`, running `handlers` only (the cluster's share one set). */
  const startOwnWorker = async (
    c: TestCluster,
    name: string,
    d: string,
    handlers: Record<string, TaskHandler<Task>>,
  ) => {
    const w = new WorkerAgent({
      agentId: c.id(name),
      distributorId: c.id(d),
      a2a: { router: c.router },
      timing: c.options.timing ?? FAST,
      handlers,
    });
    extraWorkers.push(w);
    await w.initialize();
    return w;
  };

  const send = async (
    url: string,
    taskType: string,
    returnImmediately = false,
    messageId: string = randomUUID(),
  ): Promise<RpcAnswer> => {
    const { status, answer } = await sendMessageRpc<RpcAnswer>(
      url,
      { messageId, contextId: messageId, parts: [taskPart(taskType, { tag: taskType })] },
      { configuration: { returnImmediately } },
    );
    expect(status).toBe(200);
    return answer;
  };

  const directoryEntry = (c: TestCluster, d: string) => c.coordinator.core.directory.get(c.id(d));
  /** What the coordinator knows of worker `w` on distributor `d`: its task types, [] before it reports; undefined: not listed. */
  const reportedTypes = (c: TestCluster, d: string, w: string) =>
    directoryEntry(c, d)?.workers.find((worker) => worker.id === c.id(w) && worker.status !== "dead")
      ?.task_types;

  it("a registered distributor whose worker reports after the old 5 s window: an unknown type is still REJECTED, a known one COMPLETED", async () => {
    const c = await startCluster("late");
    await c.startDistributor("d1");
    // The distributor is known, so the short grace for "no distributor at all" does not apply.
    const { url, startedAt } = await startServer(c, undefined, 500);
    const unknown = send(url, "no_such_type");
    const known = send(url, "count");
    let answered = false;
    void Promise.race([unknown, known]).then(() => (answered = true));
    // Its worker comes up slowly, as on a loaded machine: only after the old window.
    await until(
      "the old start-up window has run out",
      () => Date.now() > startedAt + OLD_WINDOW_MS + 500,
      15_000,
    );
    expect(answered).toBe(false);
    await c.startWorker("w1", "d1");
    const [u, k] = await Promise.all([unknown, known]);
    expect(u.result?.task?.status.state).toBe("TASK_STATE_REJECTED");
    expect(JSON.stringify(u.result)).toMatch(/unknown task type \\"no_such_type\\": no live worker runs it/);
    expect(k.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(clusterTaskTypes(c.coordinator).settled).toBe(true);
  });

  it("with no worker ever reporting, the wait ends at its ceiling and the message is taken on", async () => {
    const c = await startCluster("none");
    await c.startDistributor("d1");
    const { url } = await startServer(c, 1000);
    const answer = await send(url, "count", true);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_SUBMITTED");
  });

  it("with no distributor registered at all, a message is answered after the short grace, not at the ceiling", async () => {
    const c = await startCluster("no-distributor");
    const { url } = await startServer(c, NEVER_MS, 300);
    const answer = await send(url, "count", true);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_SUBMITTED");
  });

  it("with every distributor known dead, a message is answered at once (no grace, no ceiling)", async () => {
    const c = await startCluster("all-dead");
    const d1 = await c.startDistributor("d1");
    await until("the coordinator knows d1", () => directoryEntry(c, "d1") !== undefined);
    await d1.cleanup();
    c.distributors.delete("d1");
    await until("d1 is declared dead", () => directoryEntry(c, "d1")?.status === "dead", 15_000);
    const { url } = await startServer(c, NEVER_MS, NEVER_MS);
    const answer = await send(url, "count", true);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_SUBMITTED");
  });

  it("two distributors: the wait is not over while the second one's workers have not reported", async () => {
    const c = await startCluster("two-distributors");
    const { url } = await startServer(c);
    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    await c.startDistributor("d2");
    await until(
      "d1's worker has reported and d2 is registered, without workers",
      () =>
        (reportedTypes(c, "d1", "w1")?.length ?? 0) > 0 &&
        directoryEntry(c, "d2") !== undefined &&
        directoryEntry(c, "d2")?.status !== "dead",
      15_000,
    );
    // The first distributor's workers have all reported: that alone used to end the wait.
    const messageId = randomUUID();
    const second = send(url, "second", true, messageId);
    // Claimed: the gateway is judging its type now (w2 does not exist yet).
    const claim = claimName("", messageId, messageId);
    await until(
      "the message is claimed",
      async () => (await c.coordinator.store.get(claim)) !== null,
      15_000,
    );
    await startOwnWorker(c, "w2", "d2", { second: tagged("second") });
    const answer = await second;
    // Taken on, once w2 had said it runs it (where it is placed then is placement's business).
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_SUBMITTED");
    expect(reportedTypes(c, "d2", "w2")).toContain("second");
  });

  it("after start-up, a type of a worker that has registered but not yet reported is not refused as unknown", async () => {
    // A silent worker stays alive (listed, its types unknown) far longer than the test runs.
    const c = await startCluster("late-joiner", { ...FAST, heartbeatTimeoutMs: 60_000 });
    await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    const { url } = await startServer(c, 0);
    await until("w1 has reported", () => (reportedTypes(c, "d1", "w1")?.length ?? 0) > 0, 15_000);
    // A new worker registers (its first heartbeat, with its types, comes later).
    await c.distributors.get("d1")!.registerWorker(c.id("w2"));
    await until(
      "the coordinator lists w2, its types not yet known",
      () => reportedTypes(c, "d1", "w2")?.length === 0,
      15_000,
    );
    const messageId = randomUUID();
    const late = send(url, "late_type", false, messageId);
    const claim = claimName("", messageId, messageId);
    await until(
      "the message is claimed",
      async () => (await c.coordinator.store.get(claim)) !== null,
      15_000,
    );
    await startOwnWorker(c, "w2", "d1", { late_type: tagged("late_type") });
    const answer = await late;
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    // Once every worker has reported, a type none runs is still refused.
    await until("w2 has reported", () => (reportedTypes(c, "d1", "w2")?.length ?? 0) > 0, 15_000);
    const unknown = await send(url, "no_such_type");
    expect(unknown.result?.task?.status.state).toBe("TASK_STATE_REJECTED");
  });
});
