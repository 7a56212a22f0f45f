import { afterAll, beforeAll } from "vitest";
import type { CoordinatorAgent, CoordinatorAgentOptions } from "../../src/index.js";
import {
  type CoordinatorServerOptions,
  type RunningServer,
  startCoordinatorServer,
} from "../../src/server/coordinator-server.js";
import { TestCluster } from "./cluster.js";

/**
 * A coordinator with distributor d1 and worker w1 on `memory://<name>-<pid>`, ready, and its
 * HTTP surface on a free port (`options` as startCoordinatorServer takes them; `coordinator`,
 * the coordinator's own options beside the cluster's). The caller closes the server, then stops
 * the cluster.
 */
export async function servedCluster(
  name: string,
  options: Omit<CoordinatorServerOptions, "port"> = {},
  coordinator: Partial<CoordinatorAgentOptions> = {},
): Promise<{ cluster: TestCluster; server: RunningServer }> {
  const cluster = new TestCluster({ url: `memory://${name}-${process.pid}` });
  await cluster.startOne(undefined, coordinator);
  return { cluster, server: await startCoordinatorServer(cluster.coordinator, { port: 0, ...options }) };
}

/**
 * For a describe block whose tests call the REST API of a coordinator alone (no distributor) on
 * `memory://<name>-<pid>`: started before its tests, stopped after them. `call` sends a request,
 * a string body as it is and any other as JSON, and answers the status and the body, parsed when
 * it is a JSON object, else its text; `coordinator()` is the agent, to check what it recorded.
 */
export function servedCoordinatorPerSuite(name: string, options: Partial<CoordinatorAgentOptions> = {}) {
  let cluster: TestCluster | undefined;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://${name}-${process.pid}` });
    await cluster.startCoordinator(options);
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server!.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text.startsWith("{") ? JSON.parse(text) : text };
  };
  return { call, coordinator: (): CoordinatorAgent => cluster!.coordinator };
}
