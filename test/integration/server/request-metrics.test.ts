import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { sendMessageRpc } from "../../helpers/a2a-rpc.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { parsePrometheusText } from "../../helpers/prometheus-text.js";
import { servedCluster } from "../../helpers/served-cluster.js";

/**
 * /metrics counts the requests the coordinator's HTTP surface answered: the REST API's by route
 * and status, the A2A gateway's by JSON-RPC method, status and error code (a JSON-RPC refusal is
 * an HTTP 200). An operator sees refusals and failures as rates, not only in the log.
 */
describe("request counters on /metrics", () => {
  let cluster: TestCluster;
  let server: RunningServer;

  const rpc = (body: unknown, headers: Record<string, string> = { "a2a-version": "1.0" }) =>
    fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }).then((res) => res.text());

  /** Each sample of `name` as "label=value,...: count". */
  const samples = async (name: string): Promise<Record<string, number>> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const family = parsePrometheusText(text).get(name);
    expect(family?.type).toBe("counter");
    return Object.fromEntries(
      family!.samples.map((s) => [
        Object.entries(s.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(","),
        s.value,
      ]),
    );
  };

  beforeAll(async () => {
    ({ cluster, server } = await servedCluster("request-metrics"));
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("counts REST requests by route and status, and none another surface answered", async () => {
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/tasks/no-such-task`);
    const posted = await fetch(`${server.url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: "rm-1", task_type: "echo", payload: {} }),
    });
    await fetch(`${server.url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_type: 7 }),
    });
    await fetch(`${server.url}/no/such/route`);
    await fetch(`${server.url}/tasks/rm-1`, { method: "DELETE" });
    await fetch(`${server.url}/dashboard/state`);
    const counts = await samples("triad_http_requests_total");
    expect(counts).toMatchObject({
      "route=GET /tasks/{task_id},status=404": 3,
      [`route=POST /tasks,status=${posted.status}`]: 1,
      "route=POST /tasks,status=422": 1,
      "route=other,status=404": 1,
      // A method the path does not take: no route matched it either.
      "route=other,status=405": 1,
    });
    // The dashboard answered its own request; the scrape counts itself once it is answered.
    expect(Object.keys(counts).filter((k) => k.includes("dashboard"))).toEqual([]);
    expect(counts["route=GET /metrics,status=200"]).toBeUndefined();
    expect((await samples("triad_http_requests_total"))["route=GET /metrics,status=200"]).toBe(1);
  });

  it("counts A2A requests by method, status and JSON-RPC error code, a client's method name only if A2A names it", async () => {
    await rpc({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "no-such-task" } });
    await rpc({ jsonrpc: "2.0", id: 2, method: "GetTask", params: { id: "no-such-task" } }, {});
    for (let i = 0; i < 2; i++) await rpc({ jsonrpc: "2.0", id: 3, method: `Made up ${i}`, params: {} });
    await sendMessageRpc(
      server.url,
      { messageId: "rm-m1", parts: [{ data: { task_type: "echo", payload: {} } }] },
      { id: 4 },
    );
    await fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    expect(await samples("triad_a2a_requests_total")).toEqual({
      "method=GetTask,status=200,code=-32001": 1,
      "method=GetTask,status=200,code=-32009": 1,
      "method=unknown,status=200,code=-32601": 2,
      "method=SendMessage,status=200,code=": 1,
      "method=unknown,status=415,code=": 1,
    });
  });
});
