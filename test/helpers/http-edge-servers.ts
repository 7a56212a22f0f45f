import { A2AClient } from "../../src/index.js";
import {
  coordinatorHttp,
  type RunningServer,
  startCoordinatorServer,
} from "../../src/server/coordinator-server.js";
import { TestCluster } from "./cluster.js";
import type { Answer } from "./raw-socket.js";

/**
 * The listeners the HTTP-edge tests (http-edges, http-cross-site) hit, on one coordinator: its
 * server (triad up) plain, with an API token, and on every interface; a distributor's or
 * worker's listener (signed POST /a2a only), and a coordinator's with the REST API on the same
 * port (`triad coordinator`).
 */
export type EdgeServers = {
  cluster: TestCluster;
  server: RunningServer;
  tokenServer: RunningServer;
  openServer: RunningServer;
  agentPort: number;
  mountedPort: number;
  stop: () => Promise<void>;
};

export async function startEdgeServers(tag: string): Promise<EdgeServers> {
  const cluster = new TestCluster({ url: `memory://${tag}-${process.pid}` });
  await cluster.startCoordinator();
  const server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  const tokenServer = await startCoordinatorServer(cluster.coordinator, { port: 0, apiToken: "edge-token" });
  const openServer = await startCoordinatorServer(cluster.coordinator, { port: 0, host: "0.0.0.0" });
  const agent = new A2AClient({ agentId: "edge-agent", tokenSecret: "s", router: null });
  const mounted = new A2AClient({ agentId: "edge-coordinator", tokenSecret: "s", router: null });
  const http = coordinatorHttp(cluster.coordinator, { host: "127.0.0.1" });
  mounted.serveOtherRoutes((req, res) => {
    http.handle(req, res).catch(() => res.destroy());
  });
  const listeners = [agent, mounted];
  const agentPort = (await agent.listen()).port;
  const mountedPort = (await mounted.listen()).port;
  const stop = async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all([server, tokenServer, openServer].map((s) => s.close()));
    await cluster.stop();
  };
  return { cluster, server, tokenServer, openServer, agentPort, mountedPort, stop };
}

/** The `error.code` of a JSON error answer. */
export const errorCode = (a: Answer) => (a.json as { error?: { code?: string } } | null)?.error?.code;

/** POSTs `body` as JSON to `<base><path>`: the status and the error body. */
export async function post(base: string, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
}
