import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiClient, fetchFailure } from "../../../src/cli/api-client.js";

/**
 * The CLI's REST client comes back after a 503 that says when (Retry-After: the store was
 * unavailable), and only then: any other refusal is the command's error at once.
 */

let server: Server | undefined;

async function serve(answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }>) {
  const seen: string[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push(body);
      const a = answers[Math.min(seen.length - 1, answers.length - 1)]!;
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
      res.end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  if (server) await new Promise((r) => server?.close(r));
  server = undefined;
});

const unavailable = { code: "ERR_STORE_UNAVAILABLE", message: "the store is unavailable" };

describe("ApiClient", () => {
  it("sends a request again after a 503 with Retry-After, the same body, until it is answered", async () => {
    const { url, seen } = await serve([
      { status: 503, headers: { "retry-after": "0" }, body: { error: unavailable } },
      { status: 503, headers: { "retry-after": "0" }, body: { error: unavailable } },
      { status: 202, body: { tasks: [{ task_id: "a" }] } },
    ]);
    const reply = await new ApiClient(url, "").request("POST", "/tasks", [
      { task_id: "a", task_type: "echo" },
    ]);
    expect(reply).toEqual({ tasks: [{ task_id: "a" }] });
    expect(seen).toHaveLength(3);
    expect(new Set(seen).size).toBe(1);
  });

  it("gives up when the wait would pass its deadline, and never retries a 503 without Retry-After", async () => {
    const { url, seen } = await serve([
      { status: 503, headers: { "retry-after": "5" }, body: { error: unavailable } },
    ]);
    await expect(new ApiClient(url, "").request("GET", "/tasks/a", undefined, 1000, 1000)).rejects.toThrow(
      /503 ERR_STORE_UNAVAILABLE/,
    );
    expect(seen).toHaveLength(1);
    await new Promise((r) => server?.close(r));
    const shutting = await serve([
      { status: 503, body: { error: { code: "ERR_SHUTTING_DOWN", message: "shutting down" } } },
    ]);
    await expect(new ApiClient(shutting.url, "").request("GET", "/tasks/a")).rejects.toThrow(
      /ERR_SHUTTING_DOWN/,
    );
    expect(shutting.seen).toHaveLength(1);
  });
});

describe("ApiClient: a coordinator it cannot reach", () => {
  it("names the cause (ECONNREFUSED), not only undici's 'fetch failed'", async () => {
    // A port nothing listens on: taken and let go at once.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    const failure = api.request("GET", "/status");
    await expect(failure).rejects.toThrow(
      `cannot reach the coordinator at http://127.0.0.1:${port}: fetch failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    // With a code, as every other failure of the CLI: `triad status` ends its line [ERR_COORDINATOR_UNREACHABLE].
    await expect(failure).rejects.toMatchObject({ code: "ERR_COORDINATOR_UNREACHABLE" });
    const several = new ApiClient(`http://127.0.0.1:${port},http://127.0.0.1:${port}`);
    await expect(several.request("GET", "/status")).rejects.toMatchObject({
      code: "ERR_COORDINATOR_UNREACHABLE",
      message: expect.stringMatching(/^cannot reach any coordinator \(/),
    });
  });

  it.each([
    [new TypeError("fetch failed"), "fetch failed"],
    [
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } }),
      "fetch failed: ENOTFOUND",
    ],
    [
      Object.assign(new TypeError("fetch failed"), {
        cause: { errors: [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED ::1:1" }] },
      }),
      "fetch failed: ECONNREFUSED (connect ECONNREFUSED ::1:1)",
    ],
    [
      Object.assign(new TypeError("fetch failed"), { cause: new Error("other side closed") }),
      "fetch failed: other side closed",
    ],
  ])("fetchFailure(%s) is %j", (err, text) => {
    expect(fetchFailure(err)).toBe(text);
  });
});
