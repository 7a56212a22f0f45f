import { compileErrors, validate } from "@readme/openapi-parser";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/core/json.js";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { REST_ROUTES } from "../../../src/server/http-api.js";
import { openApiDocument } from "../../../src/server/openapi.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { type Answer, raw } from "../../helpers/raw-socket.js";
import { servedCluster } from "../../helpers/served-cluster.js";

/**
 * GET /openapi.json describes the REST API as the router serves it: a valid OpenAPI 3.1
 * document, every route and no other, every answer a route gives (status and error code)
 * listed for it, the bodies it answers matching their schemas, and the request body schema
 * refusing what POST /tasks refuses.
 */

const TOKEN = "openapi-token";
const BASE = "https://triad.test/openapi.json";
type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> } & JsonObject;

/** Where a JSON pointer into the document points, escaped as RFC 6901 wants. */
const pointer = (...segments: string[]) =>
  `${BASE}#/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;

describe("the REST API's OpenAPI document", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let doc: Doc;
  let ajv: Ajv2020;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const json = { ...auth, "content-type": "application/json" };
  const send = (method: string, target: string, headers: Record<string, string> = auth, body?: string) =>
    raw(server.port, method, target, headers, body);

  beforeAll(async () => {
    // Caps of one schedule and one limited type: the samples reach their 409s.
    ({ cluster, server } = await servedCluster(
      "openapi",
      { apiToken: TOKEN },
      { schedules: { maxSchedules: 1 }, limits: { maxLimits: 1 } },
    ));
    const answer = await send("GET", "/openapi.json", {});
    expect(answer.status).toBe(200);
    doc = answer.json as Doc;
    ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ ...doc, $id: BASE });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  /** The operation a request reached: its documented answers. */
  const operationOf = (method: string, path: string) => doc.paths[path]?.[method.toLowerCase()];

  /** Why `answer` is not what the document says `method path` answers, or null when it is. */
  function undocumented(method: string, path: string, answer: Answer): string | null {
    const operation = operationOf(method, path);
    if (operation === undefined) return `${method} ${path} is not in the document`;
    const documented = operation.responses[String(answer.status)];
    if (documented === undefined) return `${method} ${path} answered ${answer.status}, not documented`;
    const content = documented.content?.["application/json"];
    if (content === undefined) return null;
    const check = ajv.compile({
      $ref: pointer(
        "paths",
        path,
        method.toLowerCase(),
        "responses",
        String(answer.status),
        "content",
        "application/json",
        "schema",
      ),
    });
    return check(answer.json)
      ? null
      : `${method} ${path} ${answer.status} ${answer.body.slice(0, 300)}: ${ajv.errorsText(check.errors)}`;
  }

  it("is served without the token (like /metrics), as openApiDocument builds it for this server", async () => {
    expect(doc).toEqual(openApiDocument({ maxBatch: 10_000, maxBodyBytes: 1024 * 1024 }));
    expect((await send("GET", "/tasks", {})).status).toBe(401); // the token rule still holds elsewhere
    const foreign = await send("GET", "/openapi.json", { origin: "http://evil.example" });
    expect(foreign.status).toBe(403); // and so does the browser guard
  });

  it("is a valid OpenAPI 3.1 document (and the validator does refuse a broken one)", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    const broken = structuredClone(doc);
    const listing = broken.paths["/tasks"]!.get as unknown as { parameters: Array<{ in: string }> };
    listing.parameters[0]!.in = "body"; // not a place OpenAPI 3 knows
    expect((await validate(broken as never)).valid).toBe(false);
    // Every $ref resolves and every schema compiles.
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item))
        for (const [status, answer] of Object.entries(op.responses))
          for (const type of Object.keys(answer.content ?? {}))
            expect(() =>
              ajv.compile({
                $ref: pointer("paths", path, method, "responses", status, "content", type, "schema"),
              }),
            ).not.toThrow();
  });

  it("says what each error code an answer lists means (none is described by its bare name)", () => {
    const undescribed: string[] = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item))
        for (const [status, answer] of Object.entries(op.responses)) {
          const description = (answer as { description?: string }).description ?? "";
          for (const m of description.matchAll(/`(ERR_[A-Z_]+)`: ([^;]*)/g))
            if (m[2] === m[1]) undescribed.push(`${method.toUpperCase()} ${path} ${status} ${m[1]}`);
        }
    expect(undescribed).toEqual([]);
  });

  it("describes exactly the routes the router serves", async () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...REST_ROUTES].sort());
    for (const route of REST_ROUTES) {
      const [method, path] = route.split(" ") as [string, string];
      const answer = await send(
        method,
        path.replace("{task_id}", "no-such-task"),
        json,
        method === "POST" ? "{}" : undefined,
      );
      expect(
        [404, 405].includes(answer.status) && /no route|not allowed/.test(answer.body),
        `${route}: ${answer.body}`,
      ).toBe(false);
    }
    // A method a path does not take is 405 with what it takes; a path of no route is 404.
    for (const [path, item] of Object.entries(doc.paths)) {
      const unused = ["DELETE", "PATCH"].find((m) => item[m.toLowerCase()] === undefined)!;
      const answer = await send(unused, path.replace("{task_id}", "t"));
      expect(answer.status, path).toBe(405);
      // HEAD with every GET (RFC 9110: HEAD is GET without the body).
      const methods = Object.keys(item).map((m) => m.toUpperCase());
      expect(answer.headers.allow?.split(", ").sort()).toEqual(
        (methods.includes("GET") ? [...methods, "HEAD"] : methods).sort(),
      );
    }
    for (const path of ["/task", "/tasks/a/b", "/agents/x", "/openapi.yaml", "/tasks/a/cancel/b"]) {
      const answer = await send("GET", path);
      expect(answer.status, path).toBe(404);
      expect(answer.json).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
    }
  });

  it("lists every answer a route gives, its error code included, and each body matches its schema", async () => {
    const done = await send(
      "POST",
      "/tasks",
      json,
      '{"task_id":"doc-done","task_type":"echo","payload":{"a":1}}',
    );
    expect(done.status).toBe(202);
    // A long poll (fetch: raw() half-closes its socket, and a waiting request ends with it).
    const finished = await fetch(`${server.url}/tasks/doc-done?wait=3000`, { headers: auth });
    expect(await finished.json()).toMatchObject({ status: "completed" });
    const big = JSON.stringify({ task_type: "echo", payload: { s: "x".repeat(1024 * 1024) } });
    const deep = `{"task_type":"echo","payload":{"d":${"[".repeat(40)}${"]".repeat(40)}}}`;
    const samples: Array<
      [method: string, path: string, target: string, headers?: Record<string, string>, body?: string]
    > = [
      ["POST", "/tasks", "/tasks", json, '{"task_type":"echo","payload":{"n":1}}'],
      ["POST", "/tasks", "/tasks", json, '{"task_id":"doc-done","task_type":"echo"}'],
      [
        "POST",
        "/tasks",
        "/tasks",
        json,
        '[{"task_type":"echo"},{"task_type":"compute","payload":{"operation":"sum","values":[1,2]}}]',
      ],
      ["POST", "/tasks", "/tasks", json, '[{"task_id":"doc-done","task_type":"echo"}]'],
      [
        "POST",
        "/tasks",
        "/tasks",
        json,
        '[{"task_id":"doc-dup","task_type":"echo"},{"task_id":"doc-dup","task_type":"echo"}]',
      ],
      ["POST", "/tasks", "/tasks", json, "{nope"],
      ["POST", "/tasks", "/tasks", json, '{"task_type":"echo","task_type":"sleep"}'],
      ["POST", "/tasks", "/tasks", { ...auth, "content-type": "text/plain" }, "{}"],
      ["POST", "/tasks", "/tasks", json, big],
      ["POST", "/tasks", "/tasks", json, "[]"],
      ["POST", "/tasks", "/tasks", json, '{"task_type":""}'],
      ["POST", "/tasks", "/tasks", json, deep],
      ["POST", "/tasks", "/tasks", json, '{"task_type":"echo","payload":{"a":{"__proto__":{"x":1}}}}'],
      ["POST", "/tasks", "/tasks", json, `${"[".repeat(70)}${"]".repeat(70)}`],
      ["POST", "/tasks", "/tasks", {}, '{"task_type":"echo"}'],
      ["POST", "/tasks", "/tasks", { ...json, origin: "http://evil.example" }, '{"task_type":"echo"}'],
      ["GET", "/tasks", "/tasks"],
      ["GET", "/tasks", "/tasks?status=completed&limit=5"],
      ["GET", "/tasks", "/tasks?status=done"],
      ["GET", "/tasks", "/tasks?limit=-1"],
      ["GET", "/tasks/{task_id}", "/tasks/doc-done"],
      ["GET", "/tasks/{task_id}", "/tasks/doc-done?wait=soon"],
      ["GET", "/tasks/{task_id}", "/tasks/%zz"],
      ["GET", "/tasks/{task_id}", "/tasks/no-such-task"],
      ["GET", "/tasks/{task_id}/events", "/tasks/doc-done/events"],
      ["GET", "/tasks/{task_id}/events", "/tasks/no-such-task/events"],
      ["POST", "/tasks/{task_id}/cancel", "/tasks/doc-done/cancel"],
      ["POST", "/tasks/{task_id}/cancel", "/tasks/no-such-task/cancel"],
      ["POST", "/tasks/{task_id}/input", "/tasks/doc-done/input", json, '{"value":{"ok":true}}'],
      ["POST", "/tasks/{task_id}/input", "/tasks/no-such-task/input", json, '{"value":1}'],
      ["POST", "/tasks/{task_id}/input", "/tasks/doc-done/input", json, '{"answer":1}'],
      ["POST", "/tasks/{task_id}/input", "/tasks/doc-done/input", json, '{"value":1,"question":-1}'],
      ["GET", "/agents", "/agents"],
      ["GET", "/agents", "/agents", { authorization: "Bearer wrong" }],
      ["PUT", "/limits/{task_type}", "/limits/doc-llm", json, '{"concurrency":2}'],
      ["PUT", "/limits/{task_type}", "/limits/doc-llm", json, '{"concurrency":3,"rate_per_s":1.5}'],
      ["PUT", "/limits/{task_type}", "/limits/doc-llm", json, '{"concurrency":0}'],
      ["PUT", "/limits/{task_type}", "/limits/doc-other", json, '{"concurrency":1}'],
      ["GET", "/limits", "/limits"],
      ["DELETE", "/limits/{task_type}", "/limits/doc-llm"],
      ["DELETE", "/limits/{task_type}", "/limits/doc-llm"],
      [
        "POST",
        "/schedules",
        "/schedules",
        json,
        '{"schedule_id":"doc-s","every_ms":60000,"task":{"task_type":"echo"}}',
      ],
      [
        "POST",
        "/schedules",
        "/schedules",
        json,
        '{"schedule_id":"doc-s","cron":"0 9 * * 1-5","timezone":"Europe/Paris","task":{"task_type":"echo","payload":{"a":1}}}',
      ],
      [
        "POST",
        "/schedules",
        "/schedules",
        json,
        '{"schedule_id":"doc-s","cron":"99 * * * *","task":{"task_type":"echo"}}',
      ],
      [
        "POST",
        "/schedules",
        "/schedules",
        json,
        '{"schedule_id":"doc-s2","every_ms":60000,"task":{"task_type":"echo"}}',
      ],
      ["GET", "/schedules", "/schedules"],
      ["GET", "/schedules", "/schedules?limit=1&cursor=doc-a"],
      ["GET", "/schedules", "/schedules?limit=0"],
      ["GET", "/schedules", "/schedules?cursor=.."],
      ["GET", "/schedules/{schedule_id}", "/schedules/doc-s"],
      ["GET", "/schedules/{schedule_id}", "/schedules/no-such"],
      ["DELETE", "/schedules/{schedule_id}", "/schedules/doc-s"],
      ["DELETE", "/schedules/{schedule_id}", "/schedules/doc-s"],
      ["GET", "/metrics", "/metrics", {}],
      ["GET", "/openapi.json", "/openapi.json", {}],
    ];
    const seen = new Set<string>();
    for (const [method, path, target, headers, body] of samples) {
      const answer = await send(method, target, headers, body);
      expect(undocumented(method, path, answer)).toBeNull();
      seen.add(`${answer.status} ${(answer.json as { error?: { code?: string } })?.error?.code ?? ""}`);
    }
    // The sample reaches the answers it is meant to (a typo in it would only test 2xx).
    for (const want of [
      "202 ",
      "200 ",
      "400 ERR_MALFORMED_JSON",
      "400 ERR_DUPLICATE_KEY",
      "415 ERR_UNSUPPORTED_MEDIA_TYPE",
      "413 ERR_BODY_TOO_LARGE",
      "422 ERR_INVALID_TASK",
      "422 ERR_JSON_TOO_DEEP",
      "422 ERR_RESERVED_KEY",
      "401 ERR_UNAUTHORIZED",
      "403 ERR_FOREIGN_ORIGIN",
      "400 ERR_INVALID_STATUS",
      "400 ERR_INVALID_LIMIT",
      "400 ERR_INVALID_WAIT",
      "400 ERR_INVALID_TASK_ID",
      "404 ERR_NOT_FOUND",
      "409 ERR_TASK_FINISHED",
      "409 ERR_NOT_WAITING_FOR_INPUT",
      "422 ERR_INVALID_INPUT",
      "201 ",
      "422 ERR_INVALID_TYPE_LIMIT",
      "422 ERR_INVALID_SCHEDULE",
      "409 ERR_TOO_MANY_LIMITS",
      "409 ERR_TOO_MANY_SCHEDULES",
      "400 ERR_INVALID_CURSOR",
    ])
      expect(seen, want).toContain(want);
    // A task still open is canceled: 200 with the task, as documented.
    await send("POST", "/tasks", json, '{"task_id":"doc-open","task_type":"sleep","payload":{"ms":10000}}');
    const canceled = await send("POST", "/tasks/doc-open/cancel");
    expect(canceled.status).toBe(200);
    expect(undocumented("POST", "/tasks/{task_id}/cancel", canceled)).toBeNull();
  });

  it("its request body schema refuses what POST /tasks refuses, and takes what it takes", async () => {
    const submitSchema = ajv.compile({ $ref: pointer("components", "schemas", "SubmitTasks") });
    const refused = [
      "null",
      "42",
      '"echo"',
      "[]",
      "{}",
      '{"task_type":""}',
      '{"task_type":7}',
      `{"task_type":"${"t".repeat(201)}"}`,
      '{"task_type":"echo","payload":[]}',
      '{"task_type":"echo","payload":"x"}',
      '{"task_type":"echo","extra":1}',
      '{"task_type":"echo","task_id":""}',
      '{"task_type":"echo","task_id":"a b"}',
      '{"task_type":"echo","task_id":"a\\u0000b"}',
      '{"task_type":"echo","task_id":"."}',
      '{"task_type":"echo","task_id":".."}',
      `{"task_type":"echo","task_id":"${"i".repeat(201)}"}`,
      '[{"task_type":"echo"},{"task_type":"echo","payload":null}]',
      '[{"task_type":"echo"},"nope"]',
      '[[{"task_type":"echo"}]]',
    ];
    for (const body of refused) {
      const answer = await send("POST", "/tasks", json, body);
      expect(answer.status, `${body} -> ${answer.body}`).toBe(422);
      expect(submitSchema(JSON.parse(body)), body).toBe(false);
    }
    const taken = [
      '{"task_type":"echo"}',
      '{"task_type":"echo","payload":{"a":[1,{"b":null}]},"task_id":"doc-taken-1"}',
      '{"task_type":"x","task_id":"...","payload":{}}',
      '[{"task_type":"echo","task_id":"doc-taken-2"},{"task_type":"echo"}]',
    ];
    for (const body of taken) {
      const answer = await send("POST", "/tasks", json, body);
      expect(answer.status, `${body} -> ${answer.body}`).toBe(202);
      expect(submitSchema(JSON.parse(body)), body).toBe(true);
    }
    // The batch limit is the server's own (the route answers 413 above it).
    const limited = openApiDocument({ maxBatch: 3, maxBodyBytes: 1024 });
    expect(limited.components).toMatchObject({ schemas: { SubmitTasks: { anyOf: [{}, { maxItems: 3 }] } } });
  });
});
