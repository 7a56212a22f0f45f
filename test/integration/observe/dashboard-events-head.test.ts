import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * The dashboard's event stream (GET /events) at its edges, each test on a coordinator of its
 * own. HEAD /events had no body to write, so its head was never sent and it never ended: each
 * one held one of the feed's 64 places, and as nothing was ever written to it the feed never saw
 * its client leave, so 64 of them (from clients long gone) kept every dashboard out until the
 * coordinator restarted. A stream beyond the 64 was refused in plain text, with no error code.
 */
describe("the dashboard's event stream at its edges", () => {
  const started: Array<{ cluster: TestCluster; server: RunningServer }> = [];
  const served = async (name: string): Promise<RunningServer> => {
    const cluster = new TestCluster({ url: `memory://dashboard-events-${name}-${process.pid}` });
    await cluster.startCoordinator();
    const server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    started.push({ cluster, server });
    return server;
  };

  afterEach(async () => {
    for (const { cluster, server } of started.splice(0)) {
      await server.close();
      await cluster.stop();
    }
  });

  it("answers HEAD with the stream's head and ends, holding no place among the streams", async () => {
    const server = await served("head");
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
    try {
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
    } finally {
      controller.abort();
    }
  });

  it("refuses a stream beyond its 64 with 503 and an error code, as GET /tasks/:id/events does", async () => {
    const server = await served("full");
    const controller = new AbortController();
    try {
      for (let i = 0; i < 64; i++) {
        const res = await fetch(`${server.url}/events`, { signal: controller.signal });
        expect(res.status).toBe(200);
      }
      const refused = await fetch(`${server.url}/events`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(refused.headers.get("content-type")).toContain("application/json");
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("ERR_TOO_MANY_STREAMS");
      expect(body.error.message).toContain("64");
    } finally {
      controller.abort();
    }
  });
});
