import { randomUUID } from "node:crypto";
import { GetTaskRequest, SendMessageRequest } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeUnavailable } from "../../../src/core/errors.js";
import { CoordinatorAgent, type SubmitOutcome } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { postTasks } from "../../helpers/post-tasks.js";
import { RedisServer } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * A store that cannot answer is the client's "try again", on every surface: POST /tasks and
 * the other routes answer 503 with Retry-After, the A2A gateway a JSON-RPC error saying
 * "unavailable, retry", the library the error of each task. Once per outage in the log, not
 * per request. A batch recorded in part says what happened to each task, and sending it again
 * records each task exactly once (the task id is the idempotency key: an existing one is
 * answered as it stands, 200).
 */

type TaskJson = Record<string, unknown> & { task_id: string; created_at?: string };
/** A POST /tasks answer: a task, `{ tasks }`, or an error with `tasks` for a batch. */
type Answer = TaskJson & { error: { code: string; message: string }; tasks: TaskJson[] };

/** A SendMessage asking for an echo task. */
const message = () =>
  SendMessageRequest.fromJSON({
    message: {
      messageId: randomUUID(),
      role: "ROLE_USER",
      parts: [{ data: { task_type: "echo", payload: {} }, mediaType: "application/json" }],
    },
  });

describe("a store outage, as clients see it", () => {
  let redis: RedisServer;
  let coordinator: CoordinatorAgent;
  let server: RunningServer;
  const lines: LogEntry[] = [];
  const post = (body: unknown) => postTasks<Answer>(server.url, body);

  beforeAll(async () => {
    redis = await RedisServer.start();
    coordinator = new CoordinatorAgent({
      agentId: `c-${randomUUID().slice(0, 6)}`,
      redis: { url: redis.url, keyPrefix: `outage-${randomUUID().slice(0, 6)}:` },
      logger: captureLogger(lines),
    });
    await coordinator.initialize();
    // No worker ever joins this coordinator: A2A messages are judged at once, not after the
    // start-up wait for the workers' first reports (A2A_STARTUP_SETTLE_MS).
    server = await startCoordinatorServer(coordinator, { port: 0, a2aStartupSettleMs: 0 });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await coordinator?.cleanup();
    await redis?.destroy();
  });

  it("answers an id already recorded with the task as it stands (200), a new one 202", async () => {
    const a = `a-${randomUUID()}`;
    const first = await post([{ task_id: a, task_type: "echo", payload: { n: 1 } }]);
    expect(first.status).toBe(202);
    const again = await post([{ task_id: a, task_type: "echo", payload: { n: 2 } }]);
    expect(again.status).toBe(200);
    expect(again.body.tasks[0]).toMatchObject({ task_id: a, payload: { n: 1 } });
    const mixed = await post([
      { task_id: a, task_type: "echo" },
      { task_id: `b-${randomUUID()}`, task_type: "echo" },
    ]);
    expect(mixed.status).toBe(202);
    const single = await post({ task_id: a, task_type: "echo" });
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ task_id: a, created_at: first.body.tasks[0]!.created_at });
    expect(await coordinator.submitTask({ task_id: a, task_type: "echo" })).toBe(false);
  });

  it("a batch recorded in part: 503 + Retry-After with each task's outcome; sent again, each task recorded once", async () => {
    const ids = [`ok1-${randomUUID()}`, `down-${randomUUID()}`, `ok2-${randomUUID()}`];
    const submit = coordinator.ledger.submit.bind(coordinator.ledger);
    // One shard down: its tasks fail, the others are recorded.
    coordinator.ledger.submit = (task, to) =>
      task.taskId.startsWith("down-")
        ? Promise.reject(storeUnavailable("ERR_STORE_UNAVAILABLE", "the store is unavailable (test)"))
        : submit(task, to);
    const batch = ids.map((task_id) => ({ task_id, task_type: "echo", payload: {} }));
    let partial: Awaited<ReturnType<typeof post>>;
    let library: unknown;
    let settled: SubmitOutcome[];
    try {
      partial = await post(batch);
      library = await coordinator.submitTasks(batch).catch((err: unknown) => err);
      settled = await coordinator.submitTasksSettled(batch);
    } finally {
      coordinator.ledger.submit = submit;
    }
    expect(partial.status).toBe(503);
    expect(partial.retryAfter).toBe("1");
    expect(partial.body.error.code).toBe("ERR_STORE_UNAVAILABLE");
    expect(partial.body.tasks[0]).toMatchObject({ task_id: ids[0], status: "pending" });
    expect(partial.body.tasks[1]).toEqual({
      task_id: ids[1],
      error: { code: "ERR_STORE_UNAVAILABLE", message: expect.stringContaining("unavailable") },
    });
    expect(partial.body.tasks[2]).toMatchObject({ task_id: ids[2], status: "pending" });
    // The library tells the same per task: a rejection carrying the outcomes, or the outcomes.
    expect(library).toMatchObject({
      code: "ERR_STORE_UNAVAILABLE",
      details: { status: 503, outcomes: [{ created: false }, { error: {} }, { created: false }] },
    });
    expect(settled.map((o) => ("error" in o ? o.error.code : o.created))).toEqual([
      false,
      "ERR_STORE_UNAVAILABLE",
      false,
    ]);

    const before = { ...coordinator.core.stats };
    const retry = await post(batch);
    expect(retry.status).toBe(202);
    expect(retry.body.tasks.map((t) => t.task_id)).toEqual(ids);
    expect(coordinator.core.stats.submitted - before.submitted).toBe(1);
    expect(coordinator.core.stats.duplicates - before.duplicates).toBe(2);
    expect(retry.body.tasks[0]!.created_at).toBe(partial.body.tasks[0]!.created_at);
  });

  it("the A2A gateway answers a SendMessage it could not record with a JSON-RPC error: unavailable, retry", async () => {
    const client = await new ClientFactory().createFromUrl(server.url);
    const submit = coordinator.ledger.submit.bind(coordinator.ledger);
    coordinator.ledger.submit = () =>
      Promise.reject(storeUnavailable("ERR_STORE_UNAVAILABLE", "the store is unavailable (test)"));
    try {
      await expect(client.sendMessage(message())).rejects.toThrow(/unavailable, retry/);
      const stream = client.sendMessageStream(message());
      await expect(
        (async () => {
          for await (const _ of stream) {
            // the error comes instead of the first event
          }
        })(),
      ).rejects.toThrow(/unavailable, retry/);
    } finally {
      coordinator.ledger.submit = submit;
    }
  });

  it("Redis down: every route answers 503 with Retry-After, the A2A gateway 'unavailable, retry', logged once; back up: accepted again, logged once", async () => {
    const warnsBefore = lines.filter((l) => l.level === "warn").length;
    await redis.kill();
    const id = `r-${randomUUID()}`;
    const client = await new ClientFactory().createFromUrl(server.url);
    const a2a = Promise.all([
      client.sendMessage(message()).then(
        () => "answered",
        (err: Error) => err.message,
      ),
      client.getTask(GetTaskRequest.fromJSON({ id })).then(
        () => "answered",
        (err: Error) => err.message,
      ),
    ]);
    const answers = await Promise.all([
      post([{ task_id: id, task_type: "echo" }]),
      post({ task_id: `${id}-single`, task_type: "echo" }),
      fetch(`${server.url}/tasks/${id}`),
      fetch(`${server.url}/tasks?status=pending`),
      fetch(`${server.url}/tasks/${id}/cancel`, { method: "POST" }),
    ]);
    const statuses = answers.map((a) => ("status" in a ? a.status : 0));
    expect(statuses).toEqual([503, 503, 503, 503, 503]);
    expect(answers[0]!.retryAfter).toBe("1");
    for (const res of answers.slice(2) as Response[]) {
      expect(res.headers.get("retry-after")).toBe("1");
      expect(((await res.json()) as Answer).error.code).toMatch(/^ERR_STORE_(TIMEOUT|UNAVAILABLE)$/);
    }
    for (const said of await a2a) expect(said).toMatch(/unavailable, retry/);
    const warns = lines.filter((l) => l.level === "warn").slice(warnsBefore);
    expect(warns.filter((l) => /store unavailable/.test(l.msg))).toHaveLength(1);

    await redis.restart({ downMs: 0 });
    // Accepted again once the client has reconnected (its backoff is at most a second).
    let back = await post([{ task_id: id, task_type: "echo" }]);
    const deadline = performance.now() + 10_000;
    while (back.status !== 202 && performance.now() < deadline) {
      expect(back.status).toBe(503);
      await new Promise((r) => setTimeout(r, 100));
      back = await post([{ task_id: id, task_type: "echo" }]);
    }
    expect(back.status).toBe(202);
    // The outage ends with a reply after a quiet second: one info line. Waited for, posting as a
    // client would, not a fixed 1.5 s (on a loaded machine that may pass before the quiet second).
    let later = 0;
    await until(
      "the store is said available again",
      async () => {
        await post([{ task_id: `${id}-later-${later++}`, task_type: "echo" }]);
        return lines.some((l) => /store available again/.test(l.msg));
      },
      10_000,
      200,
    );
    expect(lines.filter((l) => /store available again/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /store unavailable/.test(l.msg))).toHaveLength(1);
  }, 30_000);
});
