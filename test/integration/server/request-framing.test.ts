import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/index.js";
import {
  coordinatorHttp,
  type RunningServer,
  startCoordinatorServer,
} from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { type Answer, raw } from "../../helpers/raw-socket.js";

/**
 * How the coordinator's HTTP surface reads a request's framing: Expect: 100-continue, the
 * request target's forms, the body's charset and its JSON. Each case runs on both of its
 * servers: its own (triad up) and the A2A listener it shares (triad coordinator).
 */

const errorCode = (a: Answer) => (a.json as { error?: { code?: string } } | null)?.error?.code;

/**
 * Writes `head` on a socket, then `body` only once a `100 Continue` came back; resolves with
 * everything the server sent until it closed the connection (5 s at most).
 */
function expectContinue(port: number, head: string, body?: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    let sent = false;
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      if (!sent && body !== undefined && text.startsWith("HTTP/1.1 100 ")) {
        sent = true;
        socket.write(body);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(text));
  });
}

/** Writes `request` on a socket and resolves with the first chunk the server sends back (5 s at most). */
function firstChunk(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.setTimeout(5000, () => socket.destroy());
    socket.once("data", (d: Buffer) => {
      text = d.toString();
      socket.destroy();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(text));
  });
}

describe("request framing on the coordinator's HTTP servers", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const listeners: A2AClient[] = [];
  const ports: Array<[name: string, port: number]> = [];

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://request-framing-${process.pid}` });
    await cluster.startCoordinator();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    const mounted = new A2AClient({ agentId: "framing-coordinator", tokenSecret: "s", router: null });
    const http = coordinatorHttp(cluster.coordinator, { host: "127.0.0.1" });
    mounted.serveOtherRoutes((req, res) => {
      http.handle(req, res).catch(() => res.destroy());
    });
    listeners.push(mounted);
    ports.push(["triad up", server.port], ["triad coordinator", (await mounted.listen()).port]);
  });

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await server?.close();
    await cluster?.stop();
  });

  describe("Expect: 100-continue", () => {
    it("a body declared over the limit is a 413 at once, never invited with a 100 Continue", async () => {
      for (const [name, port] of ports) {
        for (const path of ["/tasks", "/a2a/jsonrpc", "/schedules", "/a2a"]) {
          const text = await expectContinue(
            port,
            `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
              "content-length: 50000000\r\nexpect: 100-continue\r\n\r\n",
          );
          if (path === "/a2a" && name === "triad up") continue; // no signed messaging on triad up's port
          expect(text.split("\r\n")[0], `${name} ${path}`).toMatch(/^HTTP\/1\.1 413 /);
          expect(text, `${name} ${path}`).not.toContain("100 Continue");
          if (path !== "/a2a") expect(text, `${name} ${path}`).toContain('"code":"ERR_BODY_TOO_LARGE"');
        }
      }
    });

    it("a body within the limit is invited, read and answered", async () => {
      for (const [name, port] of ports) {
        const body = JSON.stringify({ task_id: `continued-${port}`, task_type: "echo", payload: {} });
        const text = await expectContinue(
          port,
          `POST /tasks HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
            `content-length: ${body.length}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n`,
          body,
        );
        expect(text, name).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /);
      }
    });

    it("any other expectation is a 417 ERR_EXPECTATION_FAILED naming it", async () => {
      for (const [name, port] of ports) {
        const a = await raw(
          port,
          "POST",
          "/tasks",
          { "content-type": "application/json", expect: "200-ok" },
          "{}",
        );
        expect([name, a.status, errorCode(a)]).toEqual([name, 417, "ERR_EXPECTATION_FAILED"]);
        expect((a.json as { error: { message: string } }).error.message).toContain("200-ok");
      }
    });

    it("a refusal before the body is read (unknown route, wrong type) is answered at once", async () => {
      for (const [name, port] of ports) {
        for (const [path, type] of [
          ["/nowhere", "application/json"],
          ["/tasks", "text/plain"],
        ]) {
          const text = await expectContinue(
            port,
            `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${type}\r\n` +
              "content-length: 100\r\nexpect: 100-continue\r\n\r\n",
          );
          expect(text.split("\r\n")[0], `${name} ${path}`).toMatch(/^HTTP\/1\.1 4(04|15) /);
        }
      }
      const after = await raw(server.port, "GET", "/nowhere");
      expect([after.status, errorCode(after)]).toEqual([404, "ERR_NOT_FOUND"]);
    });
  });

  describe("the body's charset", () => {
    it("any charset but UTF-8 is a 415 naming it, on every route that reads JSON; nothing is recorded", async () => {
      // Bytes in another charset were read as UTF-8 all the same: refused by their label, whatever they are.
      const body = JSON.stringify({ task_id: "latin-1", task_type: "echo", payload: {} });
      for (const [name, port] of ports) {
        for (const charset of ["latin1", "ISO-8859-1", '"utf-16"', "windows-1252"]) {
          for (const path of ["/tasks", "/schedules", "/limits/echo", "/a2a/jsonrpc", "/a2a"]) {
            if (path === "/a2a" && name === "triad up") continue;
            const method = path.startsWith("/limits") ? "PUT" : "POST";
            const a = await raw(
              port,
              method,
              path,
              { "content-type": `application/json; charset=${charset}` },
              body,
            );
            expect(a.status, `${name} ${path} ${charset}`).toBe(415);
            if (path !== "/a2a") {
              expect(errorCode(a), `${name} ${path}`).toBe("ERR_UNSUPPORTED_MEDIA_TYPE");
              expect((a.json as { error: { message: string } }).error.message).toContain(charset);
            }
          }
        }
        for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
          const ok = JSON.stringify({ task_id: `utf8-${port}-${charset}`, task_type: "echo", payload: {} });
          const a = await raw(
            port,
            "POST",
            "/tasks",
            { "content-type": `application/json; charset=${charset}` },
            ok,
          );
          expect(a.status, `${name} ${charset}`).toBe(202);
        }
      }
      expect((await raw(server.port, "GET", "/tasks/latin-1")).status).toBe(404);
    });
  });

  describe("a body that begins with a UTF-8 byte order mark", () => {
    it("is read without it (RFC 8259 8.1) on the REST API and the A2A JSON-RPC endpoint; only one is taken", async () => {
      const json = { "content-type": "application/json" };
      for (const [name, port] of ports) {
        const task = JSON.stringify({ task_id: `bom-${port}`, task_type: "echo", payload: { a: 1 } });
        const posted = await raw(port, "POST", "/tasks", json, `\uFEFF${task}`);
        expect([name, posted.status]).toEqual([name, 202]);
        const got = await raw(port, "GET", `/tasks/bom-${port}`);
        expect((got.json as { payload: unknown }).payload).toEqual({ a: 1 });
        const limit = await raw(port, "PUT", "/limits/bom-type", json, '\uFEFF{"concurrency":2}');
        expect([200, 201], name).toContain(limit.status); // created, then replaced
        const rpc = await raw(
          port,
          "POST",
          "/a2a/jsonrpc",
          { ...json, "a2a-version": "1.0" },
          `\uFEFF{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"bom-${port}"}}`,
        );
        expect([name, rpc.status]).toEqual([name, 200]);
        expect((rpc.json as { result: { id: string } }).result.id).toBe(`bom-${port}`);
        // A duplicate member is still found past the mark.
        const dup = await raw(port, "POST", "/tasks", json, '\uFEFF{"task_id":"a","task_id":"b"}');
        expect([name, dup.status, errorCode(dup)]).toEqual([name, 400, "ERR_DUPLICATE_KEY"]);
        const rpcDup = await raw(
          port,
          "POST",
          "/a2a/jsonrpc",
          { ...json, "a2a-version": "1.0" },
          '\uFEFF{"jsonrpc":"2.0","id":1,"method":"GetTask","method":"ListTasks","params":{"id":"x"}}',
        );
        expect([name, rpcDup.status]).toEqual([name, 400]);
        expect((rpcDup.json as { error: { data: { code: string } } }).error.data.code).toBe(
          "ERR_DUPLICATE_KEY",
        );
        // Two marks are one too many: the second is not white space.
        const two = await raw(port, "POST", "/tasks", json, `\uFEFF\uFEFF${task}`);
        expect([name, two.status, errorCode(two)]).toEqual([name, 400, "ERR_MALFORMED_JSON"]);
      }
      await raw(server.port, "DELETE", "/limits/bom-type");
    });
  });

  describe("a JSON object that names a member twice", () => {
    it("is a 400 ERR_DUPLICATE_KEY naming it on the REST API and the A2A JSON-RPC endpoint; nothing is recorded", async () => {
      const json = { "content-type": "application/json" };
      for (const [name, port] of ports) {
        const rest: Array<[method: string, path: string, body: string, at: string]> = [
          [
            "POST",
            "/tasks",
            `{"task_id":"dup-${port}","task_type":"echo","task_type":"sleep","payload":{}}`,
            "task_type",
          ],
          [
            "POST",
            "/tasks",
            `[{"task_id":"dup-${port}","task_type":"echo","payload":{"ms":1,"ms":2}}]`,
            "[0].payload.ms",
          ],
          ["PUT", "/limits/echo", '{"concurrency":1,"concurrency":50}', "concurrency"],
          [
            "POST",
            "/schedules",
            `{"schedule_id":"dup-${port}","every_ms":1000,"every_ms":60000,"task":{"task_type":"echo"}}`,
            "every_ms",
          ],
        ];
        for (const [method, path, body, at] of rest) {
          const a = await raw(port, method, path, json, body);
          expect(a.status, `${name} ${method} ${path}`).toBe(400);
          expect(errorCode(a)).toBe("ERR_DUPLICATE_KEY");
          expect((a.json as { error: { message: string } }).error.message).toContain(
            `names ${at} more than once`,
          );
        }
        const rpc = await raw(
          port,
          "POST",
          "/a2a/jsonrpc",
          { ...json, "a2a-version": "1.0" },
          '{"jsonrpc":"2.0","id":1,"method":"GetTask","method":"ListTasks","params":{"id":"x"}}',
        );
        expect(rpc.status, `${name} JSON-RPC`).toBe(400);
        const error = (rpc.json as { error: { code: number; message: string; data: { code: string } } })
          .error;
        expect(error.code).toBe(-32700);
        expect(error.data.code).toBe("ERR_DUPLICATE_KEY");
        expect(error.message).toContain("names method more than once");
        expect((await raw(port, "GET", `/tasks/dup-${port}`)).status).toBe(404);
        expect((await raw(port, "GET", `/schedules/dup-${port}`)).status).toBe(404);
        // The same names in different objects are no duplicate.
        const fine = await raw(
          port,
          "POST",
          "/tasks",
          json,
          `{"task_id":"nested-${port}","task_type":"echo","payload":{"task_type":"x","a":{"task_type":"y"}}}`,
        );
        expect(fine.status, name).toBe(202);
      }
      expect(((await raw(server.port, "GET", "/limits")).json as { limits: unknown }).limits).toEqual([]);
    });
  });

  describe("the request target", () => {
    it("in absolute form (GET http://host/tasks) is served as its path, on every route, with the target's host", async () => {
      for (const [name, port] of ports) {
        const origin = `http://127.0.0.1:${port}`;
        const listed = await raw(port, "GET", `${origin}/tasks?limit=1`);
        expect([name, listed.status]).toEqual([name, 200]);
        expect(listed.json).toHaveProperty("tasks");
        expect((await raw(port, "GET", `${origin}/agents`)).status).toBe(200);
        const body = JSON.stringify({ task_id: `absolute-${port}`, task_type: "echo", payload: {} });
        const posted = await raw(
          port,
          "POST",
          `HTTP://127.0.0.1:${port}/tasks`,
          { "content-type": "application/json" },
          body,
        );
        expect(posted.status, name).toBe(202);
        expect((await raw(port, "GET", `${origin}/tasks/absolute-${port}`)).status).toBe(200);
        expect((await raw(port, "GET", `${origin}/.well-known/agent-card.json`)).status).toBe(200);
        // The target's host is the one asked for (RFC 9112 3.2.2): another site's is refused as its Host would be.
        const foreign = await raw(port, "GET", "http://evil.example/tasks");
        expect([foreign.status, errorCode(foreign)]).toEqual([403, "ERR_FOREIGN_HOST"]);
        const ftp = await raw(port, "GET", "ftp://127.0.0.1/tasks");
        expect([ftp.status, errorCode(ftp)]).toEqual([400, "ERR_BAD_REQUEST"]);
      }
      // The A2A listener's own route too (who listens here).
      const [, coordinatorPort] = ports[1]!;
      const who = await raw(coordinatorPort, "GET", `http://127.0.0.1:${coordinatorPort}/a2a`);
      expect(who.json).toEqual({ agent_id: "framing-coordinator", protocol: "triad-a2a" });
    });

    it("without a Host (HTTP/1.1), or with two, is a 400 with a code naming it; HTTP/1.0 needs none", async () => {
      for (const [name, port] of ports) {
        for (const [request, says] of [
          ["GET /tasks HTTP/1.1\r\nconnection: close\r\n\r\n", "must carry a Host header"],
          ["GET /a2a HTTP/1.1\r\nconnection: close\r\n\r\n", "must carry a Host header"],
          [
            "GET /tasks HTTP/1.1\r\nhost: 127.0.0.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n",
            "2 Host headers",
          ],
        ] as const) {
          const text = await expectContinue(port, request);
          expect(text.split("\r\n")[0], `${name} ${request}`).toMatch(/^HTTP\/1\.1 400 /);
          const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as {
            error: { code: string; message: string };
          };
          expect(body.error.code).toBe("ERR_BAD_REQUEST");
          expect(body.error.message).toContain(says);
        }
        expect(await expectContinue(port, "GET /agents HTTP/1.0\r\n\r\n"), name).toMatch(/^HTTP\/1\.1 200 /);
        const absolute = `GET http://127.0.0.1:${port}/agents HTTP/1.1\r\nconnection: close\r\n\r\n`;
        expect(await expectContinue(port, absolute), name).toMatch(/^HTTP\/1\.1 200 /);
      }
    });

    it("with two Content-Type headers is a 400 with a code naming the header; nothing is recorded", async () => {
      for (const [name, port] of ports) {
        for (const [path, body] of [
          ["/tasks", JSON.stringify({ task_id: `two-types-${port}`, task_type: "echo", payload: {} })],
          ["/a2a/jsonrpc", '{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x"}}'],
        ] as const) {
          for (const types of [
            ["application/json", "text/plain"],
            ["application/json", "application/json"],
          ]) {
            const text = await expectContinue(
              port,
              `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${types[0]}\r\n` +
                `content-type: ${types[1]}\r\na2a-version: 1.0\r\ncontent-length: ${body.length}\r\n` +
                `connection: close\r\n\r\n${body}`,
            );
            expect(text.split("\r\n")[0], `${name} ${path} ${types}`).toMatch(/^HTTP\/1\.1 400 /);
            const answer = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as {
              error: { code: string; message: string };
            };
            expect(answer.error.code).toBe("ERR_BAD_REQUEST");
            expect(answer.error.message).toContain("2 Content-Type headers");
          }
        }
        expect((await raw(port, "GET", `/tasks/two-types-${port}`)).status).toBe(404);
      }
    });

    it("with two Authorization, Content-Length or Transfer-Encoding headers is a 400 ERR_BAD_REQUEST naming the fault; nothing is recorded", async () => {
      for (const [name, port] of ports) {
        const body = JSON.stringify({ task_id: `two-auth-${port}`, task_type: "echo", payload: {} });
        const head = `POST /tasks HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n`;
        for (const [extra, says] of [
          // Node kept the first of two and a proxy in front may have checked the other.
          ["authorization: Bearer a\r\nauthorization: Bearer b\r\n", "2 Authorization headers"],
          // Refused by node's parser (request smuggling), answered with a code all the same.
          [`content-length: ${body.length}\r\n`, "not valid HTTP/1.1"],
          ["transfer-encoding: chunked\r\n", "not valid HTTP/1.1"],
        ] as const) {
          const framing = extra.startsWith("authorization")
            ? `${extra}content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`
            : extra.startsWith("content-length")
              ? `${extra}${extra}connection: close\r\n\r\n${body}`
              : `${extra}${extra}connection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
          const text = await expectContinue(port, head + framing);
          expect(text.split("\r\n")[0], `${name} ${extra}`).toMatch(/^HTTP\/1\.1 400 /);
          const answer = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4)) as {
            error: { code: string; message: string };
          };
          expect(answer.error.code, `${name} ${extra}`).toBe("ERR_BAD_REQUEST");
          expect(answer.error.message, `${name} ${extra}`).toContain(says);
        }
        expect((await raw(port, "GET", `/tasks/two-auth-${port}`)).status).toBe(404);
      }
    });

    it("in absolute form (GET http://host/a2a) opens a message stream as /a2a does; two Hosts are refused there too", async () => {
      const [, port] = ports[1]!; // the A2A listener: triad up's port takes no signed messaging
      const upgrade = "connection: Upgrade\r\nupgrade: triad-a2a-stream\r\n\r\n";
      for (const target of ["/a2a", `http://127.0.0.1:${port}/a2a`, `HTTP://127.0.0.1:${port}/a2a?x=1`]) {
        const text = await firstChunk(
          port,
          `GET ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${upgrade}`,
        );
        expect([target, text.split("\r\n")[0]]).toEqual([target, "HTTP/1.1 101 Switching Protocols"]);
      }
      const twoHosts = await firstChunk(
        port,
        `GET /a2a HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nhost: evil.example\r\n${upgrade}`,
      );
      expect(twoHosts.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
      expect(twoHosts).toContain('"code":"ERR_BAD_REQUEST"');
      expect(twoHosts).toContain("2 Host headers");
    });

    it('with a "." or ".." segment (plain or %2e) or a backslash is a 400 naming the path, never another route or the dashboard', async () => {
      for (const [name, port] of ports) {
        for (const target of [
          "/tasks/..",
          "/tasks/%2e%2e",
          "/tasks/%2E.",
          "/tasks/./agents",
          "/a2a/../tasks",
          "/dashboard/../",
          "/tasks/x/..?limit=1",
          "/tasks\\..",
          "/x/../.well-known/agent-card.json",
        ]) {
          const a = await raw(port, "GET", target);
          expect([name, target, a.status, errorCode(a)]).toEqual([name, target, 400, "ERR_BAD_REQUEST"]);
          expect((a.json as { error: { message: string } }).error.message).toContain("segment");
          expect(a.headers["content-type"]).toMatch(/^application\/json/);
        }
        // Dots inside a segment are a name like any other.
        const id = await raw(port, "GET", "/tasks/a..b");
        expect([id.status, (id.json as { error: { message: string } }).error.message]).toEqual([
          404,
          "no task a..b",
        ]);
      }
    });
  });

  describe("a query parameter", () => {
    it("that takes one value, given twice, is a 400 with its own code naming it, never the first read silently", async () => {
      for (const [name, port] of ports) {
        for (const [target, code, param] of [
          ["/tasks?status=completed&status=bogus", "ERR_INVALID_STATUS", "status"],
          ["/tasks?status=completed&status=completed", "ERR_INVALID_STATUS", "status"],
          ["/tasks?limit=1&limit=100000", "ERR_INVALID_LIMIT", "limit"],
          ["/tasks?scope=local&scope=cluster", "ERR_INVALID_SCOPE", "scope"],
          ["/tasks/no-such-task?wait=0&wait=300000", "ERR_INVALID_WAIT", "wait"],
        ] as const) {
          const a = await raw(port, "GET", target);
          expect([name, target, a.status, errorCode(a)]).toEqual([name, target, 400, code]);
          expect((a.json as { error: { message: string } }).error.message).toContain(
            `${param} takes one value (given 2 times)`,
          );
        }
        expect((await raw(port, "GET", "/tasks?status=completed&limit=1&scope=local")).status).toBe(200);
      }
    });
  });

  describe("a request target over the size limit", () => {
    it("is a 414 ERR_URI_TOO_LONG however long, never a reset; headers over the limit stay a 431", async () => {
      for (const [name, port] of ports) {
        for (const size of [20_000, 70_000, 8_000_000]) {
          const a = await raw(port, "GET", `/tasks?status=${"a".repeat(size)}`);
          expect([name, size, a.status, errorCode(a)]).toEqual([name, size, 414, "ERR_URI_TOO_LONG"]);
          expect(a.headers["content-type"]).toMatch(/^application\/json/);
        }
        const headers = await raw(port, "GET", "/tasks", { "x-padding": "b".repeat(70_000) });
        expect([name, headers.status, errorCode(headers)]).toEqual([name, 431, "ERR_HEADERS_TOO_LARGE"]);
        expect((await raw(port, "GET", "/agents")).status).toBe(200);
      }
    });
  });

  describe("the task's fields", () => {
    it("a task_type with a control character (NUL, a line break), or blank, is a 422 naming the field; nothing is recorded", async () => {
      for (const [name, port] of ports) {
        for (const type of ["echo\u0000", "echo\nforged log line", "\u001b[31mecho", "echo\u007f"]) {
          const body = JSON.stringify({ task_id: `ctl-${port}`, task_type: type, payload: {} });
          const a = await raw(port, "POST", "/tasks", { "content-type": "application/json" }, body);
          expect([name, type, a.status, errorCode(a)]).toEqual([name, type, 422, "ERR_INVALID_TASK"]);
          expect((a.json as { error: { message: string } }).error.message).toContain(
            "task_type: must not contain control characters",
          );
        }
        expect((await raw(port, "GET", `/tasks/ctl-${port}`)).status).toBe(404);
        // Blank (only white space) is no type either: " " was recorded, and failed on a worker later.
        for (const type of [" ", "\t ", "\u3000"]) {
          const body = JSON.stringify({ task_id: `blank-${port}`, task_type: type, payload: {} });
          const a = await raw(port, "POST", "/tasks", { "content-type": "application/json" }, body);
          expect([name, type, a.status, errorCode(a)]).toEqual([name, type, 422, "ERR_INVALID_TASK"]);
          expect((a.json as { error: { message: string } }).error.message).toContain("task_type: must not");
        }
        expect((await raw(port, "GET", `/tasks/blank-${port}`)).status).toBe(404);
        const spaced = JSON.stringify({ task_id: `spaced-${port}`, task_type: "my type é", payload: {} });
        expect(
          (await raw(port, "POST", "/tasks", { "content-type": "application/json" }, spaced)).status,
        ).toBe(202);
      }
    });
  });

  describe("an Upgrade the server does not speak", () => {
    it("(curl --http2 asks for h2c) is declined: the request is answered over HTTP/1.1 as if it had not asked", async () => {
      for (const [name, port] of ports) {
        const upgrade = {
          connection: "Upgrade, HTTP2-Settings",
          upgrade: "h2c",
          "http2-settings": "AAMAAABkAAQCAAAAAAIAAAAA",
        };
        const agents = await raw(port, "GET", "/agents", upgrade);
        expect([name, agents.status]).toEqual([name, 200]);
        expect(agents.json).toHaveProperty("agents");
        const missing = await raw(port, "GET", "/tasks/no-such-task", upgrade);
        expect([name, missing.status, errorCode(missing)]).toEqual([name, 404, "ERR_NOT_FOUND"]);
      }
    });
  });
});
