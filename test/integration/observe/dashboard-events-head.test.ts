import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * HEAD /events, the dashboard's event stream asked for its head only. It had no body to write,
 * so its head was never sent and it never ended: each one held one of the feed's 64 places, and
 * as nothing was ever written to it the feed never saw its client leave, so 64 of them (from
 * clients long gone) kept every dashboard out until the coordinator restarted.
 */
describe("HEAD /events", () => {
  let cluster: TestCluster;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://dashboard-events-head-${process.pid}` });
    await cluster.startCoordinator();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("answers the stream's head and ends, holding no place among the dashboard's streams", async () => {
    const head = await fetch(`${server.url}/events`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await head.text()).toBe("");

    // More than the feed's 64 places, one after another: none is kept.
    for (let i = 0; i < 70; i++) {
      const res = await fetch(`${server.url}/events`, { method: "HEAD" });
      expect(res.status).toBe(200);
      await res.text();
    }
    const controller = new AbortController();
    const page = await fetch(`${server.url}/events`, { signal: controller.signal });
    expect(page.status).toBe(200);
    const reader = page.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("event: snapshot")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toContain("event: snapshot");
    controller.abort();
  });
});
