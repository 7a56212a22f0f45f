import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A2AClient, CoordinatorAgent, MessageType } from "../../../src/index.js";
import {
  coordinatorHttp,
  type RunningServer,
  startCoordinatorServer,
} from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { parsePrometheusText, sumOf } from "../../helpers/prometheus-text.js";
import { until } from "../../helpers/wait.js";

/**
 * The dashboard's HTTP routes as any client sees them: the page and its files served by the
 * coordinator itself (no network beyond it), its data behind the API token, the event stream
 * that carries a snapshot and then every change, and a task's history with its message chain.
 */

const TOKEN = "routes-token";
const auth = { authorization: `Bearer ${TOKEN}` };

/** Reads server-sent events from a fetch body, one `{ event, data }` at a time. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return async function next(): Promise<{ event: string; data: Record<string, unknown> }> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data) return { event, data: JSON.parse(data) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("the event stream ended");
      buffer += value;
    }
  };
}

describe("the dashboard's routes", () => {
  let cluster: TestCluster;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://dashboard-routes-${process.pid}` });
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.startWorker("w2", "d1");
    await cluster.ready();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, apiToken: TOKEN });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("serves the page and its files itself, open, with a strict content policy, gzip and ETags", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).not.toMatch(/https?:\/\//); // no asset from anywhere else

    for (const path of ["/dashboard/app.js", "/dashboard/app.css", "/dashboard/favicon.svg"]) {
      const res = await fetch(`${server.url}${path}`, { headers: { "accept-encoding": "gzip" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-encoding")).toBe("gzip");
      const again = await fetch(`${server.url}${path}`, {
        headers: { "if-none-match": res.headers.get("etag")! },
      });
      expect(again.status).toBe(304);
    }
    const js = await (await fetch(`${server.url}/dashboard/app.js`)).text();
    expect(js).not.toMatch(/\bhttps?:\/\/(?!www\.w3\.org\/2000\/svg)/); // nothing fetched from elsewhere
    expect((await fetch(`${server.url}/`, { method: "POST" })).status).toBe(405);
  });

  it("serves every module the page's script imports, as JavaScript with the same headers", async () => {
    // The modules app.js reaches through its static imports (`from "./x.js"`), followed one by one.
    const reached = new Set<string>();
    const queue = ["app.js"];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (reached.has(file)) continue;
      reached.add(file);
      const res = await fetch(`${server.url}/dashboard/${file}`, { headers: { "accept-encoding": "gzip" } });
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type"), file).toBe("text/javascript; charset=utf-8");
      expect(res.headers.get("x-content-type-options"), file).toBe("nosniff");
      expect(res.headers.get("content-encoding"), file).toBe("gzip");
      const again = await fetch(`${server.url}/dashboard/${file}`, {
        headers: { "if-none-match": res.headers.get("etag")! },
      });
      expect(again.status, file).toBe(304);
      const js = await res.text();
      expect(js, file).not.toMatch(/\bhttps?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      for (const m of js.matchAll(/\bfrom "\.\/([\w-]+\.js)"/g)) queue.push(m[1]!);
    }
    // Every script beside the page is one of them: none left unserved, none unused.
    const onDisk = readdirSync(new URL("../../../src/server/dashboard/assets/", import.meta.url)).filter(
      (f) => f.endsWith(".js"),
    );
    expect([...reached].sort()).toEqual(onDisk.sort());
    expect(reached.size).toBeGreaterThan(1);
    expect((await fetch(`${server.url}/dashboard/no-such-module.js`, { headers: auth })).status).toBe(404);
  });

  it("keeps its data behind the API token, and says so to the page", async () => {
    expect(await (await fetch(`${server.url}/dashboard/config`)).json()).toEqual({ token_required: true });
    for (const path of ["/events", "/dashboard/state", "/tasks/anything/history"]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="triad"');
    }
    const wrong = await fetch(`${server.url}/dashboard/state`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${server.url}/tasks/no-such-task/history`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/tasks/%E0%A4%A/history`, { headers: auth })).status).toBe(400);
  });

  it("streams a snapshot, then the counts as tasks complete", async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/events`, { headers: auth, signal: abort.signal });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const next = eventReader(res.body!);
    const snapshot = await next();
    expect(snapshot.event).toBe("snapshot");
    const agents = snapshot.data.agents as Array<{ tier: string; heartbeat_age_ms: number | null }>;
    expect(agents.map((a) => a.tier).sort()).toEqual(["coordinator", "distributor", "worker", "worker"]);
    expect(agents.every((a) => a.heartbeat_age_ms === null || a.heartbeat_age_ms >= 0)).toBe(true);
    const before = (snapshot.data.counts as { completed: number }).completed;

    const c = cluster.coordinator;
    const ids = [cluster.id("sse-1"), cluster.id("sse-2"), cluster.id("sse-3")];
    await c.submitTasks(ids.map((id) => ({ task_id: id, task_type: "echo", payload: { id } })));
    let completed = before;
    while (completed < before + 3) {
      const update = await next();
      expect(update.event).toBe("update");
      completed = (update.data.counts as { completed: number }).completed;
    }
    expect(completed).toBe(before + 3);
    abort.abort();
  });

  it("answers a task's history with the chain of messages behind it", async () => {
    const c = cluster.coordinator;
    const id = cluster.id("history-1");
    await c.submitTask({ task_id: id, task_type: "compute", payload: { operation: "sum", values: [1, 2] } });
    await c.waitForTask(id, 5000);
    type View = {
      task: { status: string; result: unknown };
      timeline: Array<{ event: string }>;
      chain: Array<{
        kind: string;
        from: string;
        to: string;
        request_id: string;
        parent_request_id: string | null;
      }>;
      trace_id: string | null;
    };
    const read = async () =>
      (await (
        await fetch(`${server.url}/tasks/${encodeURIComponent(id)}/history`, { headers: auth })
      ).json()) as View;
    // The waiter may hear of the end from the store (its catch-up) before the distributor's
    // report comes, and the chain's last links come with that report: read once it is in.
    let view = await read();
    await until("the distributor's report of the end is in the chain", async () => {
      view = await read();
      return view.chain.some((l) => l.kind === "task_terminal");
    });
    expect(view.task).toMatchObject({ status: "completed", result: { result: 3 } });
    expect(view.timeline.map((e) => e.event)).toEqual(["submitted", "assigned", "started", "committed"]);
    expect(view.chain.map((l) => `${l.kind} ${l.from}->${l.to}`)).toEqual([
      `assign_tasks ${c.agentId}->${cluster.id("d1")}`,
      expect.stringMatching(new RegExp(`^execute_tasks ${cluster.id("d1")}->`)),
      expect.stringMatching(new RegExp(`->${cluster.id("d1")}$`)),
      `task_terminal ${cluster.id("d1")}->${c.agentId}`,
    ]);
    view.chain.forEach((link, i) => {
      expect(link.parent_request_id).toBe(i === 0 ? null : view.chain[i - 1]!.request_id);
    });
    expect(view.trace_id).toBeNull(); // no OpenTelemetry SDK in this process
  });
});

describe("rejected messages in /metrics", () => {
  it("counts refused A2A messages by reason", async () => {
    const coordinator = new CoordinatorAgent({
      agentId: "metrics-coordinator",
      redis: { url: `memory://rejections-${process.pid}` },
      a2a: { tokenSecret: "the-real-secret", agentPort: 0, host: "127.0.0.1", router: null },
    });
    const http = coordinatorHttp(coordinator, {});
    coordinator.a2a.serveOtherRoutes((req, res) => void http.handle(req, res));
    await coordinator.initialize();
    const intruder = new A2AClient({ agentId: "intruder", tokenSecret: "a-guessed-secret", router: null });
    try {
      const url = coordinator.url!;
      const forged = intruder.createMessage(
        coordinator.agentId,
        { event_type: "task_terminal" },
        MessageType.EVENT,
      );
      const post = (body: string) =>
        fetch(`${url}/a2a`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect((await post(JSON.stringify(forged))).status).toBeGreaterThanOrEqual(400);
      expect(
        (await post(JSON.stringify(forged).replace("intruder", "intrudes"))).status,
      ).toBeGreaterThanOrEqual(400);
      expect((await post("{not json")).status).toBe(400);

      const m = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
      const rejected = (reason: string) =>
        sumOf(m, "triad_messages_rejected_total", { reason, agent: coordinator.agentId });
      expect(rejected("bad_signature")).toBe(2);
      expect(rejected("malformed")).toBe(1);
      expect(rejected("stale")).toBe(0);
    } finally {
      await intruder.close();
      http.stopAccepting();
      await coordinator.cleanup();
    }
  });
});

describe("a worker's refused messages in /metrics", () => {
  it("reach the coordinator through the worker's and its distributor's heartbeats, by reason and worker", async () => {
    const cluster = new TestCluster({ url: `memory://worker-rejections-${process.pid}` });
    await cluster.startOne();
    const worker = cluster.workers.get("w1")!;
    const server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    const intruder = new A2AClient({
      agentId: "intruder",
      tokenSecret: "a-guessed-secret",
      router: cluster.router,
    });
    try {
      const forged = intruder.createMessage(
        worker.agentId,
        { event_type: "execute_tasks" },
        MessageType.EVENT,
      );
      await expect(intruder.send(forged)).rejects.toMatchObject({ code: "ERR_A2A_REJECTED" });
      await expect(intruder.send(forged)).rejects.toMatchObject({ code: "ERR_A2A_REJECTED" });
      expect(worker.a2a.stats().rejected.bad_signature).toBe(2);

      // Heartbeats every 100 ms here: the counts travel worker -> distributor -> coordinator.
      const rejectedAt = async () => {
        const m = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
        return sumOf(m, "triad_messages_rejected_total", { reason: "bad_signature", agent: worker.agentId });
      };
      const deadline = performance.now() + 10_000;
      let seen = await rejectedAt();
      while (seen < 2 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        seen = await rejectedAt();
      }
      expect(seen).toBe(2);
    } finally {
      await intruder.close();
      await server.close();
      await cluster.stop();
    }
  });
});
