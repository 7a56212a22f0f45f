import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { clusterTaskTypes } from "../../../src/server/a2a-gateway/cluster-task-types.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * Right after a start the A2A gateway judges a message's task type once the workers have said
 * what they run. On a loaded machine the distributor and its workers can take far longer than
 * a few seconds to come up: the wait ends when they report, not on a short clock (it was 5 s:
 * a message for a type no worker runs was then taken on, and FAILED when the worker came).
 */

type RpcAnswer = { result?: { task?: { id: string; status: { state: string } } }; error?: unknown };

/** The gateway's former fixed window: a start-up slower than this used to judge without the workers. */
const OLD_WINDOW_MS = 5000;

describe("A2A gateway start-up: the first messages wait for the workers' reports", () => {
  let cluster: TestCluster | undefined;
  let server: RunningServer | undefined;

  afterEach(async () => {
    await server?.close();
    await cluster?.stop();
    server = undefined;
    cluster = undefined;
  });

  const start = async (name: string, startupSettleMs?: number) => {
    const count = (task: Task): JsonValue => ({ tag: String((task.payload as { tag?: unknown }).tag) });
    cluster = new TestCluster(
      { url: `memory://a2a-startup-settle-${name}-${process.pid}` },
      { handlers: { count } as Record<string, TaskHandler<Task>> },
    );
    await cluster.startCoordinator();
    server = await startCoordinatorServer(cluster.coordinator, {
      port: 0,
      ...(startupSettleMs !== undefined ? { a2aStartupSettleMs: startupSettleMs } : {}),
    });
    return { cluster, url: server.url, startedAt: Date.now() };
  };

  const send = async (url: string, taskType: string, returnImmediately = false): Promise<RpcAnswer> => {
    const res = await fetch(`${url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "SendMessage",
        params: {
          message: {
            messageId: randomUUID(),
            role: "ROLE_USER",
            parts: [
              { data: { task_type: taskType, payload: { tag: taskType } }, mediaType: "application/json" },
            ],
          },
          configuration: { returnImmediately },
        },
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as RpcAnswer;
  };

  it("a worker that reports after the old 5 s window: an unknown type is still REJECTED, a known one COMPLETED", async () => {
    const { cluster, url, startedAt } = await start("late");
    // Sent before any distributor or worker exists: both are held.
    const unknown = send(url, "no_such_type");
    const known = send(url, "count");
    let answered = false;
    void Promise.race([unknown, known]).then(() => (answered = true));
    // The other tiers come up slowly, as on a loaded machine: only after the old window.
    await until(
      "the old start-up window has run out",
      () => Date.now() > startedAt + OLD_WINDOW_MS + 500,
      15_000,
    );
    expect(answered).toBe(false);
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    const [u, k] = await Promise.all([unknown, known]);
    expect(u.result?.task?.status.state).toBe("TASK_STATE_REJECTED");
    expect(JSON.stringify(u.result)).toMatch(/unknown task type \\"no_such_type\\": no live worker runs it/);
    expect(k.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(clusterTaskTypes(cluster.coordinator).settled).toBe(true);
  });

  it("with no worker ever reporting, the wait ends at its ceiling and the message is taken on", async () => {
    const { url } = await start("none", 1000);
    const answer = await send(url, "count", true);
    expect(answer.error).toBeUndefined();
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_SUBMITTED");
  });
});
