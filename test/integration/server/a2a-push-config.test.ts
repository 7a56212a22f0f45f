import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * The card says pushNotifications: false. Each push-notification-config method is then
 * PushNotificationNotSupportedError (-32003) whatever its params name — ids of any type, none,
 * a lone surrogate, nested junk —, never a crash or an HTTP 500; params that are not an object
 * at all are the envelope's -32602, as for every method. The server keeps serving.
 */

const METHODS = [
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
];

/** Params of every shape the methods may be sent (undefined: no params member). */
const OBJECT_PARAMS: unknown[] = [
  undefined,
  {},
  { id: 5 },
  { id: "t" },
  { id: "a\uD800" },
  { taskId: 5 },
  { taskId: "t", id: "c" },
  { taskId: "a\uDC00", id: ["x"] },
  { taskId: {}, config: null },
  { tenant: 3 },
  { taskId: "t", pushNotificationConfig: { url: 5 } },
  { taskId: "t", config: { id: [], url: {}, authentication: "x" } },
  { parent: "tasks/x", name: "tasks/x/pushNotificationConfigs/y" },
];
const NOT_OBJECTS: unknown[] = [[], null, "x", 1, true];

type Answer = { status: number; body: { error?: { code: number; message: string }; result?: unknown } };

describe("A2A push-notification-config methods: not supported, for any params", () => {
  let cluster: TestCluster;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://a2a-push-config-${process.pid}` });
    await cluster.startCoordinator();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, a2aStartupSettleMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  const call = async (method: string, params: unknown): Promise<Answer> => {
    const request: Record<string, unknown> = { jsonrpc: "2.0", id: 7, method };
    if (params !== undefined) request.params = params;
    const res = await fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify(request),
    });
    return { status: res.status, body: (await res.json()) as Answer["body"] };
  };

  it("answers -32003 for any params object, and for none", async () => {
    for (const method of METHODS) {
      for (const params of OBJECT_PARAMS) {
        const { status, body } = await call(method, params);
        const what = `${method} ${JSON.stringify(params)}`;
        expect(status, what).toBe(200);
        expect(body.result, what).toBeUndefined();
        expect(body.error?.code, what).toBe(-32003);
      }
    }
  });

  it("answers params that are not an object -32602, and keeps serving", async () => {
    for (const method of METHODS) {
      for (const params of NOT_OBJECTS) {
        const { status, body } = await call(method, params);
        expect(status).toBe(200);
        expect(body.error?.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
      }
    }
    expect((await call("GetTask", { id: "no-such-task" })).body.error?.code).toBe(-32001);
  });
});
