import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { routeSdkConsole } from "../../../src/core/a2a-sdk-console.js";
import type { Logger } from "../../../src/core/logger.js";
import type { JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { clusterTaskTypes } from "../../../src/server/a2a-gateway/cluster-task-types.js";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { sendMessageRpc, taskPart } from "../../helpers/a2a-rpc.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { servedCluster } from "../../helpers/served-cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * The A2A SDK writes some of what it notes with console.warn / console.error: a status update
 * for a task its store already has ended is dropped with "ResultManager: ignoring status update
 * …". Through the gateway that happens whenever a task ends between the gateway's read of it
 * (its follower publishes WORKING) and the SDK's read of the store for that update. On the
 * console it was a plain-text line among --log-format json's lines, and past --log-level. The
 * SDK's console lines go through the gateway's logger instead.
 *
 * The race is made certain: the handler runs until the SDK reads the task for a status update,
 * and that read is answered once the task has completed.
 *
 * Another gateway is open in this process from the start (as one a test file before left open
 * in a shared process, seen in a full run): the console methods replaced after it opened (here
 * by the spies) are routed too once this file's gateway opens.
 */

describe("the A2A SDK's console lines, through the gateway", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  /** What the coordinator's logger wrote: JSON lines, as --log-format json writes them. */
  const lines: string[] = [];
  const consoleCalls: unknown[][] = [];
  let release: () => void = () => {};
  let unrouteEarlier: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    unrouteEarlier = routeSdkConsole(pino({ level: "silent" }) as unknown as Logger);
    // Before this file's gateway starts: what it leaves on the console is seen here.
    for (const method of ["error", "warn", "log", "info", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation(
        (...args: unknown[]) => void consoleCalls.push([method, ...args]),
      );
    }
    const logger = pino(
      { level: "debug" },
      { write: (chunk: string) => void lines.push(...chunk.split("\n").filter((l) => l !== "")) },
    ) as unknown as Logger;
    ({ cluster, server } = await servedCluster("a2a-sdk-console", { logger }));
    const held = async (_task: Task): Promise<JsonValue> => {
      await released;
      return { done: true };
    };
    await cluster.startWorker("w-held", "d1", { held } as Record<string, TaskHandler<Task>>);
    await until(
      "a worker runs held",
      () => clusterTaskTypes(cluster.coordinator).types.includes("held"),
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    release();
    vi.restoreAllMocks();
    await server?.close();
    await cluster?.stop();
    unrouteEarlier();
  });

  it("a status update dropped for a task that has ended is logged as JSON, nothing on the console", async () => {
    const core = cluster.coordinator.core;
    const read = core.getTask.bind(core);
    let heldReads = 0;
    // The SDK's read of the task for a status update (ResultManager.loadPersistedTask): the
    // handler returns, and the read is answered once the task has completed.
    vi.spyOn(core, "getTask").mockImplementation(async (taskId, ...rest) => {
      if (String(new Error().stack).includes("loadPersistedTask")) {
        heldReads++;
        release();
        await cluster.coordinator.waitForTask(taskId, 30_000);
      }
      return read(taskId, ...rest);
    });

    const { answer } = await sendMessageRpc<{ result?: { task?: { status: { state: string } } } }>(
      server.url,
      {
        messageId: `m-${randomUUID()}`,
        parts: [taskPart("held")],
      },
    );
    expect(answer.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(heldReads).toBeGreaterThan(0);
    // The SDK's note came before the answer (it reads the store for each event in turn).
    expect(consoleCalls).toEqual([]);

    await until(
      "the SDK's note is logged",
      () => lines.some((l) => l.includes("ignoring status update")),
      30_000,
    );
    const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    const note = entries.find((e) => e.msg.includes("ResultManager: ignoring status update"));
    expect(note?.level).toBe(20); // debug: a stale update the SDK rightly dropped
    // Only the SDK's own lines are taken: anyone else's go to the console as before.
    console.warn("not the SDK's");
    expect(consoleCalls).toEqual([["warn", "not the SDK's"]]);
  }, 60_000);
});
