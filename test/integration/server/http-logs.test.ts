import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { servedCluster } from "../../helpers/served-cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * What the coordinator's HTTP surface writes when it refuses a request or fails one. The REST
 * API answered a failure 500 and logged nothing, so an operator never saw why.
 *
 * The A2A gateway: The A2A SDK's JSON-RPC route printed a
 * stack trace with console.error for each request refused outside its transport handler: any
 * request without an A2A-Version header, any SubscribeToTask of an unknown task. Any client could
 * fill the operator's stderr with them, past --log-level and into --log-format json's lines. A
 * refusal a client caused is logged at debug through Triad's logger; a failure of the server at
 * error; nothing goes to the console.
 */

type RpcAnswer = {
  id: unknown;
  error?: { code: number; message: string; data?: Array<{ reason?: string }> };
  result?: unknown;
};

describe("the HTTP API's and the A2A gateway's refusals and failures, as the log shows them", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const entries: LogEntry[] = [];
  const consoleCalls: unknown[][] = [];

  const rpc = async (
    method: string,
    params: unknown,
    headers: Record<string, string> = { "a2a-version": "1.0" },
  ) => {
    const res = await fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
    });
    return { status: res.status, answer: (await res.json()) as RpcAnswer };
  };

  /**
   * The store fails reading `id`, and only it: a task an earlier test submitted may still be
   * followed by the A2A gateway, whose reads must not fail (the SDK would print that failure).
   */
  const failGetTaskOf = (id: string) => {
    const core = cluster.coordinator.core;
    const read = core.getTask.bind(core);
    return vi
      .spyOn(core, "getTask")
      .mockImplementation((taskId, ...rest) =>
        taskId === id ? Promise.reject(new Error("disk on fire")) : read(taskId, ...rest),
      );
  };

  beforeAll(async () => {
    ({ cluster, server } = await servedCluster("a2a-gateway-logs", { logger: captureLogger(entries) }));
    for (const method of ["error", "warn", "log", "info", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation(
        (...args: unknown[]) => void consoleCalls.push([method, ...args]),
      );
    }
  });

  afterEach(() => {
    entries.length = 0;
    consoleCalls.length = 0;
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    await cluster?.stop();
  });

  it("a request without A2A-Version (read as 0.3) is answered -32009, logged at debug, nothing on the console", async () => {
    for (let i = 0; i < 5; i++) {
      const { status, answer } = await rpc("GetTask", { id: "nope" }, {});
      expect(status).toBe(200);
      expect(answer.id).toBe(7);
      expect(answer.error?.code).toBe(-32009);
      expect(answer.error?.data?.[0]?.reason).toBe("VERSION_NOT_SUPPORTED");
      expect(answer.error?.message).toContain("'0.3' is not supported");
    }
    expect(consoleCalls).toEqual([]);
    expect(entries).toHaveLength(5);
    for (const e of entries) {
      expect(e.level).toBe("debug");
      expect(e.fields).toMatchObject({ component: "a2a-gateway", method: "GetTask", code: -32009 });
    }
  });

  it("a SubscribeToTask of an unknown task is answered -32001 with no stream, logged at debug, nothing on the console", async () => {
    const { status, answer } = await rpc("SubscribeToTask", { id: "no-such-task" });
    expect(status).toBe(200);
    expect(answer.error?.code).toBe(-32001);
    expect(answer.error?.data?.[0]?.reason).toBe("TASK_NOT_FOUND");
    expect(consoleCalls).toEqual([]);
    expect(entries.map((e) => [e.level, e.fields.method, e.fields.code])).toEqual([
      ["debug", "SubscribeToTask", -32001],
    ]);
  });

  it("a failure of the server is answered -32603 and logged as an error, nothing on the console", async () => {
    const getTask = failGetTaskOf("any");
    try {
      const { answer } = await rpc("GetTask", { id: "any" });
      expect(answer.error?.code).toBe(-32603);
    } finally {
      getTask.mockRestore();
    }
    expect(consoleCalls).toEqual([]);
    expect(entries.map((e) => [e.level, e.fields.method, e.fields.code])).toEqual([
      ["error", "GetTask", -32603],
    ]);
  });

  it("a message naming many tasks in referenceTaskIds: none is read from the store or warned about, its history keeps them", async () => {
    // The SDK read each referenced task from the store and warned on the console for each one
    // it could not find: one message of 2,000 ids, 2,000 reads and 2,000 lines on stderr.
    const ids = Array.from({ length: 2000 }, (_, i) => `no-such-task-${i}`);
    const getTask = vi.spyOn(cluster.coordinator.core, "getTask");
    try {
      const { answer } = await rpc("SendMessage", {
        message: {
          messageId: "m-logs-refs",
          role: "ROLE_USER",
          referenceTaskIds: ids,
          parts: [{ data: { task_type: "echo", payload: { x: 2 } } }],
        },
        configuration: { returnImmediately: true },
      });
      expect(answer.error).toBeUndefined();
      const task = (
        answer.result as { task: { id: string; history: Array<{ referenceTaskIds?: string[] }> } }
      ).task;
      expect(task.history[0]?.referenceTaskIds).toEqual(ids);
      expect(getTask.mock.calls.filter(([id]) => ids.includes(id as string))).toEqual([]);
      // And as the store keeps it.
      const again = await rpc("GetTask", { id: task.id });
      const stored = (again.answer.result as { history: Array<{ referenceTaskIds?: string[] }> }).history;
      expect(stored[0]?.referenceTaskIds).toEqual(ids);
    } finally {
      getTask.mockRestore();
    }
    expect(consoleCalls).toEqual([]);
  });

  it("REST: a request that fails is answered 500 ERR_INTERNAL and logged as an error with its cause; a refusal only answered", async () => {
    const getTask = failGetTaskOf("some-task");
    let failed: Response;
    try {
      failed = await fetch(`${server.url}/tasks/some-task`);
    } finally {
      getTask.mockRestore();
    }
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe("ERR_INTERNAL");
    const refused = await fetch(`${server.url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(refused.status).toBe(400);
    expect(consoleCalls).toEqual([]);
    expect(entries.map((e) => [e.level, e.fields.component, e.fields.method, e.fields.path, e.msg])).toEqual([
      ["error", "http-api", "GET", "/tasks/some-task", "HTTP API: request failed"],
    ]);
    expect((entries[0]!.fields.err as Error).message).toBe("disk on fire");
  });

  it("REST: a client gone before its whole body came is a refusal (4xx), not a failure: no error logged, no 500 counted", async () => {
    // Counted requests of POST /tasks by status, from /metrics.
    const counted = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const byStatus = new Map<string, number>();
      for (const m of text.matchAll(
        /^triad_http_requests_total\{route="POST \/tasks",status="(\d+)"\} (\d+)$/gm,
      ))
        byStatus.set(m[1]!, Number(m[2]));
      return byStatus;
    };
    const before = await counted();
    const total = (c: Map<string, number>) => [...c.values()].reduce((a, b) => a + b, 0);
    const { host, hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ""));
    // Expect: 100-continue: the server says when its handler starts reading the body.
    socket.write(
      `POST /tasks HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        "Content-Length: 100\r\nExpect: 100-continue\r\n\r\n",
    );
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      socket.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("100 Continue")) resolve();
      });
      socket.once("error", reject);
    });
    socket.write('{"task_type"');
    socket.destroy();
    let after = before;
    await until("the aborted request is counted", async () => {
      after = await counted();
      return total(after) > total(before);
    });
    expect(after.get("500") ?? 0).toBe(before.get("500") ?? 0);
    expect(after.get("400") ?? 0).toBe((before.get("400") ?? 0) + 1);
    expect(entries.filter((e) => e.level === "error")).toEqual([]);
    expect(consoleCalls).toEqual([]);
  });

  it("a request answered well logs nothing", async () => {
    const { answer } = await rpc("SendMessage", {
      message: {
        messageId: "m-logs-1",
        role: "ROLE_USER",
        parts: [{ data: { task_type: "echo", payload: { x: 1 } } }],
      },
      configuration: { returnImmediately: true },
    });
    expect(answer.error).toBeUndefined();
    expect(answer.result).toBeDefined();
    expect(consoleCalls).toEqual([]);
    expect(entries.filter((e) => e.level !== "debug" && e.level !== "trace")).toEqual([]);
  });
});
