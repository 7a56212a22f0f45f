import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { parsePrometheusText, sumOf } from "../helpers/prometheus-text.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * The dashboard's data when every tier is its own process on a real Redis: what the coordinator
 * shows of workers it never talks to (their heartbeat ages, from the distributor's reports), the
 * distributor's counters in /metrics, and a task's message chain across all three processes.
 */

const TOKEN = "processes-token";
const env = { TRIAD_SECRET: "processes-secret", TRIAD_API_TOKEN: TOKEN, TRIAD_LOG_LEVEL: "warn" };
const auth = { authorization: `Bearer ${TOKEN}` };

type Agent = { id: string; tier: string; status: string; heartbeat_age_ms: number | null };

describe("the dashboard over separate processes", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  let url = "";

  const get = async (path: string) => (await fetch(`${url}${path}`, { headers: auth })).json();

  beforeAll(async () => {
    redis = await testRedis();
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    const cUrl = `http://127.0.0.1:${cp}`;
    // Side by side, each given its upstream's address before that one listens (an agent waits
    // for its upstream): the set-up needs one start-up's bound, not three.
    const [c] = await startSideBySide(
      [
        ["coordinator", "--id", "pc", "--redis", redis.url, "--port", String(cp)],
        ["distributor", "--id", "pd", "--coordinator", cUrl, "--redis", redis.url, "--port", String(dp)],
        ["worker", "--id", "pw", "--distributor", `http://127.0.0.1:${dp}`, "--port", String(wp)],
      ],
      { env, into: procs },
    );
    url = c.url;
  });

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis?.close();
  });

  it("shows every tier with its heartbeat age, and a task's chain of messages across the processes", async () => {
    const res = await fetch(`${url}/tasks`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ task_id: "proc-1", task_type: "echo", payload: { n: 1 } }),
    });
    expect(res.status).toBe(202);
    expect(await get("/tasks/proc-1?wait=10000")).toMatchObject({ status: "completed" });

    let agents: Agent[] = [];
    await expect
      .poll(
        async () => {
          agents = ((await get("/dashboard/state")) as { agents: Agent[] }).agents;
          return agents.filter((a) => a.heartbeat_age_ms !== null).map((a) => `${a.tier}:${a.id}`);
        },
        { timeout: 10_000 },
      )
      .toEqual(["coordinator:pc", "distributor:pd", "worker:pw"]);
    for (const a of agents) {
      expect(a.status).not.toBe("dead");
      expect(a.heartbeat_age_ms).toBeLessThan(5_000);
    }

    const view = (await get("/tasks/proc-1/history")) as {
      chain: Array<{ kind: string; from: string; to: string; request_id: string; parent_request_id: string }>;
    };
    expect(view.chain.map((l) => `${l.kind} ${l.from}->${l.to}`)).toEqual([
      "assign_tasks pc->pd",
      "execute_tasks pd->pw",
      "task_results pw->pd",
      "task_terminal pd->pc",
    ]);
    view.chain.forEach((l, i) => {
      expect(l.request_id).toMatch(/^[0-9a-f-]{36}$/);
      if (i > 0) expect(l.parent_request_id).toBe(view.chain[i - 1]!.request_id);
    });
  });

  it("streams the dashboard's events from the coordinator's A2A port", async () => {
    const abort = new AbortController();
    const res = await fetch(`${url}/events`, { headers: auth, signal: abort.signal });
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while ((text.match(/\n\n/g) ?? []).length < 3) text += (await reader.read()).value ?? "";
    abort.abort();
    const frames = text.split("\n\n").filter((f) => f.startsWith("event:"));
    expect(frames[0]).toMatch(/^event: snapshot\ndata: /);
    expect(frames[1]).toMatch(/^event: update\ndata: /); // a second later, unasked
    const snapshot = JSON.parse(frames[0]!.split("\ndata: ")[1]!) as { agents: Agent[] };
    expect(snapshot.agents.map((a) => a.id)).toEqual(["pc", "pd", "pw"]);
  });

  it("/metrics carries what the distributor in the other process reports", async () => {
    await expect
      .poll(
        async () => {
          const m = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
          return [
            sumOf(m, "triad_heartbeats_total", { tier: "worker", agent: "pd" }) > 0,
            sumOf(m, "triad_redis_calls_total", { script: "commit-results", agent: "pd" }) > 0,
            sumOf(m, "triad_redis_calls_total", { script: "submit-tasks", agent: "pc" }) > 0,
            sumOf(m, "triad_tasks_total", { status: "completed", task_type: "echo" }) === 1,
          ];
        },
        { timeout: 10_000 },
      )
      .toEqual([true, true, true, true]);
  });
});
