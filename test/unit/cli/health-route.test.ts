import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { healthRoute, readyHealth } from "../../../src/cli/upstream-wait.js";

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
    server = createServer(healthRoute(() => readyHealth("worker", "w1", "http://127.0.0.1:1")));
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
