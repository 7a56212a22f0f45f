import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoTasks } from "../../src/cli/demo-workload.js";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";
import { type Family, parsePrometheusText, sumOf } from "../helpers/prometheus-text.js";

/**
 * GET /metrics after a `triad up` run parses as Prometheus text, and its counters say what the
 * run did: the demo workload's tasks by type and status, one latency observation per task, the
 * retries of its flaky tasks, heartbeats, store calls; then ten more tasks move them by ten.
 */

const TASKS = 100;
const TOKEN = "metrics-token";
const expected = new Map<string, number>();
for (const t of demoTasks(TASKS, "x")) expected.set(t.task_type, (expected.get(t.task_type) ?? 0) + 1);

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}/metrics`); // open to scrapers, token or not
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || performance.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("GET /metrics after a triad up run", () => {
  let up: TriadProcess;
  let url = "";

  beforeAll(async () => {
    const port = await freePort();
    up = new TriadProcess(
      [
        "up",
        "--tasks",
        String(TASKS),
        "--keep",
        "--port",
        String(port),
        "--distributors",
        "2",
        "--workers",
        "4",
      ],
      { TRIAD_API_TOKEN: TOKEN, TRIAD_LOG_LEVEL: "warn" },
    );
    url = (await up.waitFor(/serving at (http:\/\/\S+);/, 60_000))[1]!;
  }, 90_000);

  afterAll(async () => {
    await up?.kill();
  });

  it("counts the demo run's tasks by type and status, its latencies, retries, heartbeats and store calls", async () => {
    const flaky = expected.get("flaky")!;
    // Retries and worker heartbeats ride on the distributors' heartbeats (one a second): wait for them.
    const m = await until(
      () => scrape(url),
      (f) =>
        sumOf(f, "triad_tasks_retried_total") === flaky &&
        ["distributor-1", "distributor-2"].every(
          (agent) => sumOf(f, "triad_heartbeats_total", { tier: "worker", agent }) > 0,
        ),
    );
    for (const [task_type, n] of expected) {
      expect(sumOf(m, "triad_tasks_total", { status: "submitted", task_type })).toBe(n);
      expect(sumOf(m, "triad_tasks_total", { status: "completed", task_type })).toBe(n);
      expect(sumOf(m, "triad_task_latency_seconds_count", { task_type, status: "completed" })).toBe(n);
      expect(sumOf(m, "triad_task_latency_seconds_sum", { task_type, status: "completed" })).toBeGreaterThan(
        0,
      );
    }
    expect(sumOf(m, "triad_tasks_total", { status: "failed" })).toBe(0);
    expect(sumOf(m, "triad_tasks_total", { status: "abandoned" })).toBe(0);
    expect(m.get("triad_task_latency_seconds")?.type).toBe("histogram");

    // Each flaky task took exactly two attempts; every other task one.
    expect(sumOf(m, "triad_tasks_retried_total")).toBe(flaky);
    expect(sumOf(m, "triad_task_attempts_bucket", { task_type: "flaky", le: "1" })).toBe(0);
    expect(sumOf(m, "triad_task_attempts_bucket", { task_type: "flaky", le: "2" })).toBe(flaky);
    expect(sumOf(m, "triad_task_attempts_bucket", { task_type: "compute", le: "1" })).toBe(
      expected.get("compute"),
    );

    // Nobody died, nothing moved, nothing refused.
    expect(sumOf(m, "triad_agents_dead_total")).toBe(0);
    expect(sumOf(m, "triad_tasks_reassigned_total")).toBe(0);
    expect(sumOf(m, "triad_stale_results_total")).toBe(0);
    expect(sumOf(m, "triad_messages_rejected_total")).toBe(0);
    expect(m.get("triad_messages_rejected_total")!.samples.length).toBeGreaterThanOrEqual(6); // every reason, at 0

    expect(
      sumOf(m, "triad_heartbeats_total", { tier: "distributor", agent: "coordinator-1" }),
    ).toBeGreaterThan(0);
    expect(sumOf(m, "triad_heartbeats_total", { tier: "worker", agent: "distributor-1" })).toBeGreaterThan(0);
    expect(sumOf(m, "triad_agents", { tier: "worker" })).toBe(4);
    expect(sumOf(m, "triad_agents", { tier: "distributor" })).toBe(2);

    // The store calls behind the run: tasks are recorded in batches, dispatched and committed by the distributors.
    const submits = sumOf(m, "triad_redis_calls_total", { script: "submit-tasks", agent: "coordinator-1" });
    expect(submits).toBeGreaterThan(0);
    expect(submits).toBeLessThanOrEqual(TASKS);
    expect(sumOf(m, "triad_redis_calls_total", { script: "dispatch-tasks" })).toBeGreaterThan(0);
    expect(sumOf(m, "triad_redis_calls_total", { script: "commit-results" })).toBeGreaterThan(0);
    expect(sumOf(m, "triad_redis_calls_total", { script: "acquire-lease" })).toBeGreaterThanOrEqual(2);
    expect(sumOf(m, "triad_process_cpu_seconds_total")).toBeGreaterThan(0); // Node's own, prefixed too
    for (const name of m.keys()) expect(name.startsWith("triad_")).toBe(true);
  });

  it("ten more tasks through the API move the counters by exactly ten", async () => {
    const before = await scrape(url);
    const count = (f: Map<string, Family>, status: string) =>
      sumOf(f, "triad_tasks_total", { status, task_type: "compute" });
    const body = Array.from({ length: 10 }, (_, i) => ({
      task_type: "compute",
      payload: { operation: "max", values: [i, 3] },
    }));
    const res = await fetch(`${url}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    const { tasks } = (await res.json()) as { tasks: Array<{ task_id: string }> };
    for (const t of tasks) {
      const done = await fetch(`${url}/tasks/${t.task_id}?wait=10000`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(await done.json()).toMatchObject({ status: "completed" });
    }
    const after = await scrape(url);
    expect(count(after, "submitted") - count(before, "submitted")).toBe(10);
    expect(count(after, "completed") - count(before, "completed")).toBe(10);
    const latencies = (f: Map<string, Family>) =>
      sumOf(f, "triad_task_latency_seconds_count", { task_type: "compute" });
    expect(latencies(after) - latencies(before)).toBe(10);
  });
});
