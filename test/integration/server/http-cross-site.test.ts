import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../../src/cli/api-client.js";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { errorCode, post, startEdgeServers } from "../../helpers/http-edge-servers.js";
import { raw } from "../../helpers/raw-socket.js";

/**
 * The edges of every HTTP entry, as a hostile web page meets them through the operator's
 * browser: bodies of another type or encoding, foreign origins, rebound Host names, the token's
 * scheme; the CLI and A2A clients still get through. The other edges: http-edges.test.ts.
 */

describe("every HTTP entry", () => {
  let server: RunningServer;
  let tokenServer: RunningServer;
  let openServer: RunningServer;
  let mountedPort = 0;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ server, tokenServer, openServer, mountedPort, stop } = await startEdgeServers("http-cross-site"));
  });

  afterAll(async () => {
    await stop?.();
  });

  describe("what a web page can make the operator's browser send", () => {
    it("POST /tasks wants application/json (415 otherwise), and records nothing it refused", async () => {
      const body = JSON.stringify({ task_id: "plain-text", task_type: "echo" });
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        undefined,
      ]) {
        const a = await raw(
          server.port,
          "POST",
          "/tasks",
          type === undefined ? {} : { "content-type": type },
          body,
        );
        expect(a.status, String(type)).toBe(415);
        expect(errorCode(a)).toBe("ERR_UNSUPPORTED_MEDIA_TYPE");
      }
      expect((await fetch(`${server.url}/tasks/plain-text`)).status).toBe(404);
      const json = await raw(
        server.port,
        "POST",
        "/tasks",
        { "content-type": "application/json; charset=utf-8" },
        body,
      );
      expect(json.status).toBe(202);
    });

    it("a compressed body is 415 and one whose bytes are not UTF-8 is 400, on every route that reads one; nothing is recorded", async () => {
      const post = (path: string, body: Uint8Array, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, {
          method: path.startsWith("/limits") ? "PUT" : "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        });
      const task = JSON.stringify({ task_id: "gzipped", task_type: "echo" });
      for (const coding of ["gzip", "deflate", "br", "x-custom"]) {
        const res = await post("/tasks", gzipSync(task), { "content-encoding": coding });
        expect(res.status, coding).toBe(415);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error).toEqual({
          code: "ERR_UNSUPPORTED_MEDIA_TYPE",
          message: `the body must be sent uncompressed (got Content-Encoding: ${coding})`,
        });
      }
      expect((await fetch(`${server.url}/tasks/gzipped`)).status).toBe(404);
      const limit = await post("/limits/echo", gzipSync('{"concurrency":2}'), { "content-encoding": "gzip" });
      expect(limit.status).toBe(415);

      // "café" in Latin-1: the 0xE9 byte would have been read as U+FFFD into the task's type.
      const latin1 = Buffer.from('{"task_id":"latin-1","task_type":"caf\xe9"}', "latin1");
      for (const path of ["/tasks", "/tasks/latin-1/input", "/limits/echo", "/schedules"]) {
        const res = await post(path, latin1);
        expect(res.status, path).toBe(400);
        expect(await res.json()).toEqual({
          error: {
            code: "ERR_MALFORMED_JSON",
            message: "the body is not valid JSON: its bytes are not UTF-8",
          },
        });
      }
      expect((await fetch(`${server.url}/tasks/latin-1`)).status).toBe(404);
      // Identity is no coding; UTF-8 beyond ASCII is taken.
      const ok = await post("/tasks", Buffer.from('{"task_id":"utf-8","task_type":"café"}'), {
        "content-encoding": "identity",
      });
      expect(ok.status).toBe(202);
      expect(await ok.json()).toMatchObject({ task_type: "café" });
    });

    it("a foreign Origin is refused (403) on every route; the page's own origin is served", async () => {
      await post(server.url, "/tasks", { task_id: "victim", task_type: "echo" });
      const body = JSON.stringify({ task_id: "from-evil", task_type: "echo" });
      const json = { "content-type": "application/json" };
      for (const origin of [
        "http://evil.example",
        `http://localhost:${server.port + 1}`,
        "null",
        "https://127.0.0.1",
      ]) {
        const submit = await raw(server.port, "POST", "/tasks", { ...json, origin }, body);
        expect(submit.status, origin).toBe(403);
        expect(errorCode(submit)).toBe("ERR_FOREIGN_ORIGIN");
        expect((await raw(server.port, "POST", "/tasks/victim/cancel", { origin })).status).toBe(403);
        expect((await raw(server.port, "GET", "/dashboard/state", { origin })).status).toBe(403);
        const rpc = await raw(server.port, "POST", "/a2a/jsonrpc", { ...json, origin }, "{}");
        expect(rpc.status).toBe(403);
        // The token does not make a cross-site request welcome either.
        const withToken = { ...json, origin, authorization: "Bearer edge-token" };
        expect((await raw(tokenServer.port, "POST", "/tasks", withToken, body)).status).toBe(403);
      }
      expect((await fetch(`${server.url}/tasks/from-evil`)).status).toBe(404);
      expect(((await (await fetch(`${server.url}/tasks/victim`)).json()) as { status: string }).status).toBe(
        "pending",
      );
      // The dashboard's own Cancel button: same origin, no body.
      const own = { origin: `http://127.0.0.1:${server.port}`, host: `127.0.0.1:${server.port}` };
      const cancel = await raw(server.port, "POST", "/tasks/victim/cancel", own);
      expect(cancel.status).toBe(200);
      expect((cancel.json as { status: string }).status).toBe("abandoned");
      const viaLocalhost = { origin: `http://localhost:${server.port}`, host: `localhost:${server.port}` };
      expect((await raw(server.port, "POST", "/tasks", { ...json, ...viaLocalhost }, body)).status).toBe(202);
    });

    it("the token's scheme is read in any case (RFC 9110), the token itself exactly, on the REST API, the dashboard and A2A", async () => {
      const p = tokenServer.port;
      const json = { "content-type": "application/json" };
      const rpc = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "none" } });
      for (const authorization of ["Bearer edge-token", "bearer edge-token", "BEARER  edge-token"]) {
        expect((await raw(p, "GET", "/agents", { authorization })).status, authorization).toBe(200);
        expect((await raw(p, "GET", "/dashboard/state", { authorization })).status, authorization).toBe(200);
        const a2a = await raw(p, "POST", "/a2a/jsonrpc", { ...json, authorization }, rpc);
        expect(a2a.status, authorization).toBe(200);
      }
      for (const authorization of [
        "Bearer EDGE-TOKEN",
        "Basic edge-token",
        "Bearer",
        "edge-token",
        "Bearer edge-token2",
      ]) {
        expect((await raw(p, "GET", "/agents", { authorization })).status, authorization).toBe(401);
        expect((await raw(p, "GET", "/dashboard/state", { authorization })).status, authorization).toBe(401);
        const a2a = await raw(p, "POST", "/a2a/jsonrpc", { ...json, authorization }, rpc);
        expect(a2a.status, authorization).toBe(401);
      }
    });

    it("without a token, a Host that is not the bound address is refused (DNS rebinding)", async () => {
      const p = server.port;
      for (const host of [
        `evil.example:${p}`,
        `127.0.0.1.nip.io:${p}`,
        `localhost:${p + 1}`,
        "localhost",
        `a@localhost:${p}`,
      ]) {
        const a = await raw(p, "GET", "/agents", { host });
        expect(a.status, host).toBe(403);
        expect(errorCode(a)).toBe("ERR_FOREIGN_HOST");
        expect((await raw(p, "GET", "/", { host })).status).toBe(403);
        expect(
          (await raw(p, "POST", "/a2a/jsonrpc", { host, "content-type": "application/json" }, "{}")).status,
        ).toBe(403);
      }
      for (const host of [`localhost:${p}`, `127.0.0.1:${p}`, `[::1]:${p}`, `LOCALHOST:${p}`]) {
        expect((await raw(p, "GET", "/agents", { host })).status, host).toBe(200);
      }
      // The refusal says what was wrong: the name, or (for a name of ours) the port, or the form.
      const message = async (host: string) =>
        ((await raw(p, "GET", "/agents", { host })).json as { error: { message: string } }).error.message;
      expect(await message("localhost")).toBe(
        `Host localhost has no port, so it names port 80, but this server listens on port ${p}: send Host localhost:${p}; ` +
          "without TRIAD_API_TOKEN the Host must name this server's own address and port (DNS-rebinding protection)",
      );
      expect(await message("127.0.0.1")).toMatch(
        new RegExp(`^Host 127\\.0\\.0\\.1 has no port, .* send Host 127\\.0\\.0\\.1:${p};`),
      );
      expect(await message(`localhost:${p + 1}`)).toMatch(
        new RegExp(
          `^Host localhost:${p + 1} names port ${p + 1}, but this server listens on port ${p}: send Host localhost:${p};`,
        ),
      );
      expect(await message(`a@localhost:${p}`)).toMatch(
        /^Host "a@localhost:\d+" is not a host name or address with a port; /,
      );
      expect(await message(`evil.example:${p}`)).toMatch(
        /^Host evil\.example:\d+ is not this server's address; /,
      );
      // With a token the token is the defence; bound to 0.0.0.0, every name of the machine is its own.
      const auth = { authorization: "Bearer edge-token", host: `evil.example:${tokenServer.port}` };
      expect((await raw(tokenServer.port, "GET", "/agents", auth)).status).toBe(200);
      expect(
        (await raw(openServer.port, "GET", "/agents", { host: `my-box.lan:${openServer.port}` })).status,
      ).toBe(200);
      // The REST API behind an agent's listener knows its bound host too.
      expect((await raw(mountedPort, "GET", "/agents", { host: `evil.example:${mountedPort}` })).status).toBe(
        403,
      );
    });

    it("the CLI's API client and the A2A JSON-RPC binding still get through", async () => {
      const client = new ApiClient(server.url, "");
      await client.request("POST", "/tasks", { task_id: "by-cli", task_type: "echo" });
      expect(await client.request("GET", "/tasks/by-cli")).toMatchObject({ task_id: "by-cli" });
      expect(await client.request<{ status: string }>("POST", "/tasks/by-cli/cancel")).toMatchObject({
        status: "abandoned",
      });
      const rpc = await fetch(`${server.url}/a2a/jsonrpc`, {
        method: "POST",
        headers: { "content-type": "application/json", "a2a-version": "1.0" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "by-cli" } }),
      });
      expect(rpc.status).toBe(200);
      expect(await rpc.json()).toMatchObject({ jsonrpc: "2.0", id: 1 });
      const plain = await raw(server.port, "POST", "/a2a/jsonrpc", { "content-type": "text/plain" }, "{}");
      expect(plain.status).toBe(415);
      expect(errorCode(plain)).toBe("ERR_UNSUPPORTED_MEDIA_TYPE");
    });
  });
});
