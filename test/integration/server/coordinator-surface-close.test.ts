import perfHooks, { PerformanceObserver } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { coordinatorHttp, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * The coordinator's HTTP surface, opened and closed again and again on one coordinator (tests and
 * embedders do), leaves nothing behind. Its metrics registry subscribed to the coordinator's
 * activity (for the latency and attempts histograms) and never unsubscribed: every surface ever
 * opened kept observing every task that ended, into a registry nobody read. And each registry
 * started prom-client's process monitors anew (a GC PerformanceObserver, an event-loop delay
 * histogram), which nothing can stop: every surface's registry, and through its collectors the
 * coordinator, stayed reachable from a GC observer for the rest of the process.
 */

const TIMES = 5;

describe("the coordinator's HTTP surface opened and closed on one coordinator", () => {
  let cluster: TestCluster;
  const listeners = () =>
    (cluster.coordinator.observer as unknown as { listeners: Set<unknown> }).listeners.size;

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://coordinator-surface-close-${process.pid}` });
    await cluster.startCoordinator();
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it(`a server started and closed ${TIMES} times leaves the coordinator's activity listeners as they were`, async () => {
    const atFirst = listeners();
    for (let i = 0; i < TIMES; i++) {
      const server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
      // The surface does listen while it is open (else the count below proves nothing).
      expect(listeners()).toBeGreaterThan(atFirst);
      const scrape = await fetch(`${server.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain("triad_task_latency_seconds");
      await server.close();
      expect(listeners(), `after close ${i + 1}`).toBe(atFirst);
    }
  });

  it(`coordinatorHttp built and stopped ${TIMES} times (the surface mounted on another server) leaves none either`, () => {
    const atFirst = listeners();
    for (let i = 0; i < TIMES; i++) {
      const http = coordinatorHttp(cluster.coordinator, {});
      expect(listeners()).toBeGreaterThan(atFirst);
      http.stopAccepting();
      expect(listeners(), `after stop ${i + 1}`).toBe(atFirst);
    }
  });

  it("a closed server's address is no longer published for the other coordinators to ask", async () => {
    const coordinator = cluster.coordinator;
    const first = await startCoordinatorServer(coordinator, { port: 0 });
    expect(coordinator.apiUrl).toBe(first.url);
    // A second server now serves the API: closing the first leaves the second's address.
    const second = await startCoordinatorServer(coordinator, { port: 0 });
    expect(coordinator.apiUrl).toBe(second.url);
    await first.close();
    expect(coordinator.apiUrl).toBe(second.url);
    await second.close();
    expect(coordinator.apiUrl).toBeNull();
  });

  it("another surface starts no more process-wide monitors (GC observer, event-loop delay histogram)", async () => {
    // One surface first: the process's monitors may be started by the first registry made.
    const first = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    await first.close();

    const observe = vi.spyOn(PerformanceObserver.prototype, "observe");
    const eventLoopDelay = vi.spyOn(perfHooks, "monitorEventLoopDelay");
    for (let i = 0; i < TIMES; i++) {
      const server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
      const scrape = await fetch(`${server.url}/metrics`);
      // The process's metrics are still served by each surface.
      const text = await scrape.text();
      expect(text).toContain("triad_nodejs_gc_duration_seconds");
      expect(text).toContain("triad_nodejs_eventloop_lag_p99_seconds");
      expect(text).toContain("triad_process_cpu_seconds_total");
      await server.close();
      coordinatorHttp(cluster.coordinator, {}).stopAccepting();
    }
    const gcObservers = observe.mock.calls.filter(([options]) =>
      (options as { entryTypes?: string[] }).entryTypes?.includes("gc"),
    );
    expect(gcObservers).toHaveLength(0);
    expect(eventLoopDelay).not.toHaveBeenCalled();
  });
});
