import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { healthRoute, type TierHealth } from "../../../src/cli/upstream-wait.js";

/** What a tier that has joined its upstream answers. */
const readyHealth = (tier: string, id: string, upstream: string): TierHealth => ({
  agent_id: id,
  tier,
  status: "ready",
  ready: true,
  upstream,
});

/**
 * The health route of a worker's or distributor's port answers without reading a body. Answered
 * before the body was read, the connection's close after the answer could reset it, and the
 * sender lost the answer (a 1 MB POST to /nowhere on a worker got no 404 in the process fuzz):
 * the body is read and thrown away first, as the A2A server's own refusals do.
 */
describe("a tier's health route with a body it does not read", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it("answers only once the whole body has come, then its 404", async () => {
    server = createServer(
      healthRoute(() => ({
        agent_id: "w1",
        tier: "worker",
        status: "ready",
        ready: true,
        upstream: "http://127.0.0.1:1",
      })),
    );
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
    });
    const size = 200_000;
    socket.write(
      `POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
    );
    socket.write("x".repeat(size / 2));
    // Half the body sent: no answer yet (it would go out before the rest is read).
    await new Promise((r) => setTimeout(r, 300));
    expect(answer).toBe("");
    socket.write("x".repeat(size / 2));
    const deadline = Date.now() + 5000;
    while (!answer.includes("ERR_NOT_FOUND") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).toContain("ERR_NOT_FOUND");
    socket.destroy();
  });
});

/** What a probe sees: the status, the headers a cache or a load balancer reads, and the body. */
describe("a tier's health route answers", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  async function listening(health: () => TierHealth): Promise<string> {
    server = createServer(healthRoute(health));
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it("GET /health: 200 when ready, JSON never stored by a cache", async () => {
    const url = await listening(() => readyHealth("worker", "w1", "http://127.0.0.1:1"));
    const res = await fetch(`${url}/health?probe=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
    expect(JSON.parse(text)).toEqual({
      agent_id: "w1",
      tier: "worker",
      status: "ready",
      ready: true,
      upstream: "http://127.0.0.1:1",
    });
  });

  it("GET /health: 503 while waiting for the upstream", async () => {
    const waiting: TierHealth = {
      agent_id: "d1",
      tier: "distributor",
      status: "waiting_for_upstream",
      ready: false,
      upstream: "http://127.0.0.1:2",
    };
    const url = await listening(() => waiting);
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual(waiting);
  });

  it("HEAD /health: the GET's status and length, no body", async () => {
    const url = await listening(() => readyHealth("worker", "w1", "http://127.0.0.1:1"));
    const got = await fetch(`${url}/health`);
    const length = Buffer.byteLength(await got.text());
    const head = await fetch(`${url}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(length));
    expect(head.headers.get("cache-control")).toBe("no-store");
    expect(await head.text()).toBe("");
  });

  it("any other path or method: 404 with a code", async () => {
    const url = await listening(() => readyHealth("worker", "w1", "http://127.0.0.1:1"));
    for (const [method, path] of [
      ["GET", "/nowhere"],
      ["POST", "/health"],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status).toBe(404);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("ERR_NOT_FOUND");
      expect(body.error.message).toContain(`${method} ${path}`);
    }
  });
});
