import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coordinatorHttp, type RunningServer } from "../../../src/server/coordinator-server.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { errorCode, post, startEdgeServers } from "../../helpers/http-edge-servers.js";
import { type Answer, raw } from "../../helpers/raw-socket.js";

/**
 * The edges of every HTTP entry, as a hostile client meets them: request targets no URL parser
 * takes, ids no URL can name, and what every answer says about its type. Each server answers and
 * keeps serving. What a hostile web page can send: http-cross-site.test.ts.
 */

/** What comes back on a socket given `request` as is, until the server closes it (5 s at most). */
function rawText(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (d: Buffer) => {
      text += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(text));
  });
}

/** Targets node's HTTP parser lets through but `new URL` refuses. */
const BAD_TARGETS = [
  "//[/",
  "http://[::1/",
  "http:///",
  "http://a:99999/x",
  "//[/tasks",
  "http://[::1/dashboard/state",
  "//[/a2a/jsonrpc",
  "http://a:99999/.well-known/agent-card.json",
];

describe("every HTTP entry", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let agentPort = 0;
  let mountedPort = 0;
  let stop: (() => Promise<void>) | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    ({ cluster, server, agentPort, mountedPort, stop } = await startEdgeServers("http-edges"));
  });

  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await stop?.();
  });

  describe("a request target no URL parser takes", () => {
    it("is a 400 with a JSON error from the coordinator's server (triad up), which goes on serving", async () => {
      for (const target of BAD_TARGETS) {
        for (const method of ["GET", "POST"]) {
          const a = await raw(server.port, method, target, { "content-type": "application/json" }, "{}");
          expect(a.status, `${method} ${target}`).toBe(400);
          expect(errorCode(a)).toBe("ERR_BAD_REQUEST");
          expect(a.headers["x-content-type-options"]).toBe("nosniff");
        }
      }
      expect((await raw(server.port, "GET", "/agents")).status).toBe(200);
      expect((await raw(server.port, "GET", "/dashboard/state")).status).toBe(200);
      expect((await raw(server.port, "GET", "/.well-known/agent-card.json")).status).toBe(200);
      expect(unhandled).toEqual([]);
    });

    it("is a 400 from an agent's own listener, with or without an HTTP API behind it", async () => {
      for (const port of [agentPort, mountedPort]) {
        for (const target of BAD_TARGETS) {
          const a = await raw(port, "GET", target);
          expect(a.status, `${port} ${target}`).toBe(400);
          expect(errorCode(a)).toBe("ERR_BAD_REQUEST");
        }
        const who = await raw(port, "GET", "/a2a");
        expect(who.status).toBe(200);
        expect(who.headers["x-content-type-options"]).toBe("nosniff");
      }
      expect((await raw(mountedPort, "GET", "/agents")).status).toBe(200);
      expect(unhandled).toEqual([]);
    });

    it("what node's HTTP parser refuses (an unknown method, a bad header line, a target or headers over the limit) is a JSON error with a code on every listener, which goes on serving", async () => {
      for (const port of [server.port, agentPort, mountedPort]) {
        const cases: Array<[string, number, string]> = [
          ["FOO /tasks HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n", 400, "ERR_BAD_REQUEST"],
          ["GET /tasks HTTP/1.1\r\nhost: 127.0.0.1\r\nno colon here\r\n\r\n", 400, "ERR_BAD_REQUEST"],
          [`GET /tasks?q=${"a".repeat(20_000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`, 414, "ERR_URI_TOO_LONG"],
          [
            `GET /tasks HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: ${"a".repeat(20_000)}\r\n\r\n`,
            431,
            "ERR_HEADERS_TOO_LARGE",
          ],
        ];
        for (const [request, status, code] of cases) {
          const text = await rawText(port, request);
          const [head, body] = text.split("\r\n\r\n");
          expect(head?.split("\r\n")[0], `${port} ${request.slice(0, 30)}`).toMatch(
            new RegExp(`^HTTP/1\\.1 ${status} `),
          );
          expect(head).toContain("content-type: application/json; charset=utf-8");
          expect((JSON.parse(body!) as { error: { code: string } }).error.code).toBe(code);
        }
        expect((await raw(port, "GET", port === server.port ? "/agents" : "/a2a")).status).toBe(200);
      }
      expect(unhandled).toEqual([]);
    });

    it("never reaches the process even when the handler is called directly and fails", async () => {
      // The handle() a host mounts never rejects: a malformed target is answered inside it.
      const http = coordinatorHttp(cluster.coordinator, {});
      let status = 0;
      let ended = false;
      const res = {
        headersSent: false,
        setHeader() {},
        writeHead(s: number) {
          status = s;
          return this;
        },
        end() {
          ended = true;
        },
        destroy() {},
      };
      await expect(
        http.handle({ url: "//[/", headers: {}, method: "GET" } as never, res as never),
      ).resolves.toBeUndefined();
      expect([status, ended]).toEqual([400, true]);
      http.stopAccepting();
    });
  });

  describe("task ids", () => {
    it('"." and ".." are refused at submit (422 ERR_INVALID_TASK), alone or in a batch, and by the library', async () => {
      for (const id of [".", ".."]) {
        const one = await post(server.url, "/tasks", { task_id: id, task_type: "echo" });
        expect(one.status).toBe(422);
        expect(one.body.error.code).toBe("ERR_INVALID_TASK");
        expect(one.body.error.message).toContain("task_id");
        const batch = await post(server.url, "/tasks", [
          { task_id: `ok-${id.length}`, task_type: "echo" },
          { task_id: id, task_type: "echo" },
        ]);
        expect(batch.status).toBe(422);
        expect(batch.body.error.message).toMatch(/^\[1\]\.task_id/);
        await expect(
          cluster.coordinator.submitTask({ task_id: id, task_type: "echo" }),
        ).rejects.toMatchObject({
          code: "ERR_INVALID_TASK",
        });
        await expect(
          cluster.coordinator.submitTasks([
            { task_id: `fine-${id.length}`, task_type: "echo" },
            { task_id: id, task_type: "echo" },
          ]),
        ).rejects.toMatchObject({ code: "ERR_INVALID_TASK" });
        expect(await cluster.coordinator.core.getTask(id)).toBeNull();
      }
      // Nothing of a refused batch was recorded; ids that merely contain dots are fine.
      expect((await fetch(`${server.url}/tasks/ok-1`)).status).toBe(404);
      expect((await post(server.url, "/tasks", { task_id: "...", task_type: "echo" })).status).toBe(202);
      expect((await post(server.url, "/tasks", { task_id: ".hidden", task_type: "echo" })).status).toBe(202);
      expect((await fetch(`${server.url}/tasks/...`)).status).toBe(200);
    });

    it("a malformed percent-escape (or an encoded lone surrogate) in /tasks/:id and its subpaths is a 400", async () => {
      for (const [method, target] of [
        ["GET", "/tasks/%E0%A4%A"],
        ["GET", "/tasks/%ZZ?wait=10"],
        ["POST", "/tasks/%E0%A4%A/cancel"],
        ["POST", "/tasks/%/cancel"],
        ["GET", "/tasks/%C0/history"],
        // A lone surrogate, UTF-8-encoded (CESU): no well-formed id, refused before any lookup.
        ["GET", "/tasks/%ED%A0%80"],
        ["GET", "/tasks/a%ED%B0%80?wait=10"],
        ["POST", "/tasks/%ED%A0%80/cancel"],
        ["GET", "/tasks/%ED%A0%80/graph"],
        ["GET", "/tasks/%ED%A0%80/events"],
      ] as const) {
        const a = await raw(server.port, method, target);
        expect(a.status, `${method} ${target}`).toBe(400);
        expect(errorCode(a)).toBe("ERR_INVALID_TASK_ID");
      }
    });

    it("an id in the path longer than a task id can be is a 400 naming its length, the id not repeated", async () => {
      const id = "L".repeat(5000);
      for (const [method, target] of [
        ["GET", `/tasks/${id}`],
        ["GET", `/tasks/${id}?wait=10`],
        ["POST", `/tasks/${id}/cancel`],
        ["GET", `/tasks/${id}/graph`],
        ["GET", `/tasks/${id}/history`],
        ["GET", `/tasks/${id}/events`],
        ["POST", `/tasks/${id}/input`],
      ] as const) {
        const a = await raw(server.port, method, target);
        const what = `${method} ${target.slice(0, 20)}…${target.slice(5006)}`;
        expect(a.status, what).toBe(400);
        expect(errorCode(a), what).toBe("ERR_INVALID_TASK_ID");
        expect((a.json as { error: { message: string } }).error.message, what).toBe(
          "the task id in the path is 5000 characters; at most 200 are taken (as for a task id)",
        );
      }
    });

    it("a 404 for a schedule or a limit repeats no more than a short prefix of a long id", async () => {
      const id = "S".repeat(5000);
      for (const [method, target, what] of [
        ["GET", `/schedules/${id}`, "no schedule"],
        ["DELETE", `/schedules/${id}`, "no schedule"],
        ["DELETE", `/limits/${id}`, "no limit on task type"],
      ] as const) {
        const a = await raw(server.port, method, target);
        expect(a.status, `${method} ${what}`).toBe(404);
        expect((a.json as { error: { message: string } }).error.message, `${method} ${what}`).toBe(
          `${what} "${"S".repeat(40)}"… (5000 characters)`,
        );
      }
    });

    it("an unknown id is named decoded in its 404, as it was looked up", async () => {
      for (const [method, target] of [
        ["GET", "/tasks/a%2Fmissing"],
        ["GET", "/tasks/a%2Fmissing/graph"],
        ["GET", "/tasks/a%2Fmissing/history"],
      ] as const) {
        const a = await raw(server.port, method, target);
        expect(a.status, target).toBe(404);
        expect((a.json as { error: { message: string } }).error.message, target).toBe("no task a/missing");
      }
    });

    it("a path that begins with // is a path, not a host: 404, never another route or the dashboard", async () => {
      await cluster.coordinator.submitTask({ task_id: "slashed", task_type: "nothing-runs-it" });
      for (const target of [
        "//tasks",
        "//x/tasks",
        "//x/tasks/slashed",
        "//x/agents",
        "//x/",
        "//x/dashboard/state",
      ]) {
        const a = await raw(server.port, "GET", target);
        expect(a.status, target).toBe(404);
        expect(a.json, target).toEqual({
          error: { code: "ERR_NOT_FOUND", message: `no route GET ${target}` },
        });
      }
      expect((await raw(server.port, "GET", "/tasks/slashed")).status).toBe(200);
    });

    it("HEAD is GET without the body on every GET route, an event stream included (which it does not hold open)", async () => {
      await cluster.coordinator.submitTask({ task_id: "headed", task_type: "nothing-runs-it" });
      for (const path of [
        "/tasks",
        "/tasks/headed",
        "/tasks/headed/graph",
        "/agents",
        "/metrics",
        "/openapi.json",
      ]) {
        const get = await fetch(`${server.url}${path}`);
        const head = await fetch(`${server.url}${path}`, { method: "HEAD" });
        expect(head.status, path).toBe(get.status);
        expect(head.headers.get("content-type"), path).toBe(get.headers.get("content-type"));
        expect(await head.text(), path).toBe("");
      }
      const missing = await fetch(`${server.url}/tasks/no-such-task`, { method: "HEAD" });
      expect(missing.status).toBe(404);
      const events = await fetch(`${server.url}/tasks/headed/events`, { method: "HEAD" });
      expect(events.status).toBe(200);
      expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(await events.text()).toBe("");
      // A method a path does not take: 405, and HEAD is named beside GET.
      const refused = await raw(server.port, "DELETE", "/tasks/headed");
      expect(refused.status).toBe(405);
      expect(refused.headers.allow).toBe("GET, HEAD");
    });

    it("a long poll whose client goes away ends then, not when its wait runs out", async () => {
      await cluster.coordinator.submitTask({ task_id: "polled", task_type: "nothing-runs-it" });
      const answered = async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        return [
          ...text.matchAll(
            /^triad_http_requests_total\{route="GET \/tasks\/\{task_id\}",status="\d+"\} (\d+)$/gm,
          ),
        ]
          .map((m) => Number(m[1]))
          .reduce((a, b) => a + b, 0);
      };
      const before = await answered();
      const abort = new AbortController();
      const poll = fetch(`${server.url}/tasks/polled?wait=300000`, { signal: abort.signal }).catch(
        () => null,
      );
      const waiting = cluster.coordinator.core.waitingCount;
      await expect.poll(() => cluster.coordinator.core.waitingCount, { timeout: 5000 }).toBe(waiting + 1);
      abort.abort();
      await poll;
      // Its handler has returned (a request is counted once answered), 5 minutes early.
      await expect.poll(answered, { timeout: 5000 }).toBe(before + 1);
    });

    it("?wait= and ?limit= take decimal digits only: an empty value, white space, hex, an exponent, a sign are 400 naming the value", async () => {
      await cluster.coordinator.submitTask({ task_id: "waited-on", task_type: "nothing-runs-it" });
      for (const wait of ["", "%20", "0x10", "1e3", "-0", "%2B5", "Infinity", "1_000", "5ms", "300001"]) {
        const a = await raw(server.port, "GET", `/tasks/waited-on?wait=${wait}`);
        expect(a.status, `wait=${wait}`).toBe(400);
        expect(a.json, `wait=${wait}`).toEqual({
          error: {
            code: "ERR_INVALID_WAIT",
            message: `wait must be milliseconds in 0..300000, in decimal digits (got ${JSON.stringify(decodeURIComponent(wait))})`,
          },
        });
      }
      // (fetch: raw() half-closes its socket, and node's server drops a request that waits then.)
      for (const wait of ["0", "1", "2.5", "007"]) {
        const res = await fetch(`${server.url}/tasks/waited-on?wait=${wait}`);
        expect(res.status, `wait=${wait}`).toBe(200);
      }
      for (const limit of ["", "%205", "0x10", "1e3", "%2B5", "2.5", "0", "-1"]) {
        const a = await raw(server.port, "GET", `/tasks?limit=${limit}`);
        expect(a.status, `limit=${limit}`).toBe(400);
        expect(a.json, `limit=${limit}`).toEqual({
          error: {
            code: "ERR_INVALID_LIMIT",
            message: `limit must be a positive integer (got ${JSON.stringify(decodeURIComponent(limit))})`,
          },
        });
      }
      const listed = await raw(server.port, "GET", "/tasks?limit=1");
      expect(listed.status).toBe(200);
      expect((listed.json as { tasks: unknown[] }).tasks).toHaveLength(1);
    });
  });

  describe("what every answer says about itself", () => {
    it("nosniff on the API, metrics, agent card, dashboard and every error", async () => {
      for (const [method, target] of [
        ["GET", "/agents"],
        ["GET", "/tasks"],
        ["GET", "/tasks/nope"],
        ["GET", "/metrics"],
        ["GET", "/.well-known/agent-card.json"],
        ["GET", "/dashboard/state"],
        ["GET", "/dashboard/config"],
        ["GET", "/"],
        ["GET", "/nowhere"],
        ["DELETE", "/a2a/jsonrpc"],
        ["POST", "/tasks"],
      ] as const) {
        const a = await raw(server.port, method, target);
        expect(a.headers["x-content-type-options"], `${method} ${target} (${a.status})`).toBe("nosniff");
      }
    });

    it("the A2A gateway's errors are JSON, with no stack and no path", async () => {
      const json = { "content-type": "application/json" };
      const cases: Array<[Answer, number]> = [
        [await raw(server.port, "POST", "/a2a/jsonrpc", json, `{"pad":"${"x".repeat(1_100_000)}"}`), 413],
        [
          await raw(
            server.port,
            "POST",
            "/a2a/jsonrpc",
            { "content-type": "application/json; charset=bogus" },
            "{}",
          ),
          415,
        ],
        [await raw(server.port, "POST", "/a2a/jsonrpc", { ...json, "content-encoding": "bogus" }, "{}"), 415],
        [await raw(server.port, "PUT", "/.well-known/agent-card.json"), 405],
      ];
      for (const [a, status] of cases) {
        expect(a.status, a.body.slice(0, 200)).toBe(status);
        expect(a.headers["content-type"]).toMatch(/^application\/json/);
        expect(errorCode(a)).toMatch(/^ERR_/);
        expect(a.body).not.toMatch(/<html|<pre|node_modules|\/work\/|\s+at\s/i);
        expect(a.headers["x-content-type-options"]).toBe("nosniff");
      }
      expect((await raw(server.port, "GET", "/.well-known/agent-card.json")).status).toBe(200);
    });
  });
});
