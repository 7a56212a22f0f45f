import {
  type CoordinatorServerOptions,
  type RunningServer,
  startCoordinatorServer,
} from "../../src/server/coordinator-server.js";
import { TestCluster } from "./cluster.js";

/**
 * A coordinator with distributor d1 and worker w1 on `memory://<name>-<pid>`, ready, and its
 * HTTP surface on a free port (`options` as startCoordinatorServer takes them). The caller
 * closes the server, then stops the cluster.
 */
export async function servedCluster(
  name: string,
  options: Omit<CoordinatorServerOptions, "port"> = {},
): Promise<{ cluster: TestCluster; server: RunningServer }> {
  const cluster = new TestCluster({ url: `memory://${name}-${process.pid}` });
  await cluster.startOne();
  return { cluster, server: await startCoordinatorServer(cluster.coordinator, { port: 0, ...options }) };
}
