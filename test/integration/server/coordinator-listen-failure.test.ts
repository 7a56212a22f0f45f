import { createServer, type Server } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger } from "../../../src/core/logger.js";
import { startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * A coordinator server that cannot listen (its port taken) leaves nothing of its HTTP surface
 * behind in the process: its A2A gateway routed the SDK's console lines to the server's logger
 * from the moment it was built, and only a close undid that; none came, so every console method
 * stayed wrapped (and the SDK's lines went to the logger of a server that never served) for the
 * rest of the process (`triad up` runs on without its API when the port is busy). Its REST API's,
 * dashboard's and gateway's listeners on the coordinator's activity stayed subscribed too. A
 * closed server leaves none either (its metrics' listener stayed: see coordinator-surface-close).
 */

const METHODS = ["error", "warn", "info", "log", "debug"] as const;

describe("a coordinator server whose port is taken", () => {
  let cluster: TestCluster;
  let taken: Server;
  let port = 0;

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://coordinator-listen-failure-${process.pid}` });
    await cluster.startCoordinator();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    port = (taken.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => taken?.close(resolve));
    await cluster?.stop();
  });

  it("fails with ERR_LISTEN and leaves what a closed server leaves: the console methods as they were, no listeners on the coordinator", async () => {
    const before = METHODS.map((m) => console[m]);
    const listeners = () =>
      (cluster.coordinator.observer as unknown as { listeners: Set<unknown> }).listeners.size;
    // A server that listened and was closed leaves nothing subscribed to the coordinator's activity.
    const atFirst = listeners();
    const served = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    expect(listeners()).toBeGreaterThan(atFirst);
    await served.close();
    expect(listeners()).toBe(atFirst);

    const logger = pino({ level: "silent" }) as unknown as Logger;
    await expect(startCoordinatorServer(cluster.coordinator, { port, logger })).rejects.toMatchObject({
      code: "ERR_LISTEN",
    });
    expect(METHODS.map((m) => console[m])).toEqual(before);
    expect(listeners()).toBe(atFirst);
  });
});
