import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  type DashboardBrowser,
  openDashboardBrowser,
  requireChromium,
} from "../helpers/dashboard-browser.js";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a
 * `triad up --keep` cluster behind an API token: the page asks for the token, shows the agents
 * of all three tiers and the demo run's completed count, follows new tasks without a reload,
 * and opens a task's page with its history and the messages behind it, kept live by the task's
 * own event stream (GET /tasks/:id/events, with the token). Screenshots are kept in
 * test-artifacts/. Without chromium this fails; it never skips.
 */

const TOKEN = "dashboard-e2e-token";
const TASKS = 200;

describe("the dashboard in Chromium", () => {
  let up: TriadProcess;
  let url = "";
  let browser: DashboardBrowser;
  let page: Page;
  const problems: string[] = [];
  /** What the page asked the coordinator for, in order (path, and whether it sent the token). */
  const requests: { path: string; bearer: boolean }[] = [];

  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
  const stat = (name: string) => page.locator(`[data-stat="${name}"] .value`);

  beforeAll(async () => {
    requireChromium();
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
        "--handlers",
        "examples/approval-graph.mjs",
        "--limit",
        "sleep=concurrency:4",
      ],
      { TRIAD_API_TOKEN: TOKEN, TRIAD_LOG_LEVEL: "warn" },
    );
    url = (await up.waitFor(/serving at (http:\/\/\S+);/, 60_000))[1]!;
    browser = await openDashboardBrowser({ width: 1440, height: 1000 });
    page = browser.page;
    page.on("console", (m) => {
      // The fallback test breaks one task's event stream on purpose: its failed loads are expected.
      if (m.location().url.endsWith("/tasks/e2e-poll/events")) return;
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("request", (r) => {
      const path = new URL(r.url()).pathname;
      requests.push({ path, bearer: r.headers().authorization === `Bearer ${TOKEN}` });
    });
    page.on("requestfailed", (r) => {
      // A task page that is left while its task is open aborts that task's event stream.
      const left =
        /\/tasks\/[^/]+\/events$/.test(new URL(r.url()).pathname) &&
        /ERR_ABORTED/.test(r.failure()?.errorText ?? "");
      // The stream the fallback test breaks on purpose.
      const broken = new URL(r.url()).pathname === "/tasks/e2e-poll/events";
      if (!left && !broken) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await up?.kill();
  });

  it("asks for the API token once, then shows the agents of all three tiers and the demo run's completed count", async () => {
    await page.goto(url);
    await expect.poll(() => page.locator("#token-dialog").isVisible(), { timeout: 10_000 }).toBe(true);
    await page.locator("#token-input").fill(TOKEN);
    await page.locator("#token-form button").click();

    await page.locator(`[data-stat="completed"] .value[data-value="${TASKS}"]`).waitFor({ timeout: 20_000 });
    expect(await stat("completed").textContent()).toBe("200");
    expect(await stat("submitted").getAttribute("data-value")).toBe(String(TASKS));
    await expect
      .poll(() => page.locator("#conn").getAttribute("data-state"), { timeout: 10_000 })
      .toBe("live");

    const rows = (tier: string) => page.locator(`#agents tbody tr[data-tier="${tier}"]`);
    await expect.poll(() => rows("worker").count(), { timeout: 10_000 }).toBe(4);
    expect(await rows("coordinator").count()).toBe(1);
    expect(await rows("distributor").count()).toBe(2);
    expect(await rows("coordinator").getAttribute("data-agent")).toBe("coordinator-1");
    expect(await page.locator('#agents tbody tr[data-status="dead"]').count()).toBe(0);
    // Done per worker adds up to the run (each task ran to its end on one worker, flaky ones twice).
    const done = await rows("distributor").locator("td.num").allTextContents();
    expect(done.map(Number).reduce((a, b) => a + b, 0)).toBe(TASKS);

    // The demo's flaky tasks show as retries with the error of their first attempt.
    await expect.poll(() => page.locator("#retries li a").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator("#retries").textContent()).toContain("failed on purpose");
    await expect
      .poll(() => page.locator("#chart-throughput path.line").count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    // A line, or dots for lone seconds.
    await expect
      .poll(() => page.locator("#chart-latency .s-p50").count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    // (Page-side code as strings: this project's TypeScript has no DOM types.)
    expect(await page.evaluate('sessionStorage.getItem("triad.token")')).toBe(TOKEN);
  });

  it("counts more tasks as they complete, without a reload", async () => {
    await page.evaluate("window.unreloaded = true");
    const tasks = Array.from({ length: 25 }, (_, i) => ({
      task_type: "compute",
      payload: { operation: "sum", values: [i, 1, 2] },
    }));
    expect((await post("/tasks", tasks)).status).toBe(202);
    await page
      .locator(`[data-stat="completed"] .value[data-value="${TASKS + 25}"]`)
      .waitFor({ timeout: 20_000 });
    expect(await stat("completed").textContent()).toBe("225");
    expect(await page.evaluate("window.unreloaded")).toBe(true);
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);
    await page.waitForTimeout(1200); // one more tick, so the charts show the new second
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-overview.png"), fullPage: true });
    // Nothing failed (the flaky tasks completed on their retry): the chart draws no failure mark,
    // not even a stub along the axis, and each axis reads distinct labels.
    expect(await stat("failed").getAttribute("data-value")).toBe("0");
    expect(await stat("abandoned").getAttribute("data-value")).toBe("0");
    expect(await page.locator("#chart-throughput .s-failed").count()).toBe(0);
    expect(await page.locator("#chart-throughput .s-completed").count()).toBeGreaterThan(0);
    for (const chart of ["#chart-throughput", "#chart-latency"]) {
      const ticks = await page.locator(`${chart} text.tick`).allTextContents();
      expect(ticks.length).toBeGreaterThan(2);
      expect(new Set(ticks).size).toBe(ticks.length);
    }
  });

  it("a task's page shows what it waits on and draws its workflow from GET /tasks/:id/graph", async () => {
    const res = await post("/tasks", [
      { task_id: "e2e-wf-slow", task_type: "sleep", payload: { ms: 2500 } },
      { task_id: "e2e-wf-quick", task_type: "echo", payload: {} },
      {
        task_id: "e2e-wf-join",
        task_type: "echo",
        payload: {},
        depends_on: ["e2e-wf-slow", "e2e-wf-quick"],
        priority: 6,
        run_at: new Date(Date.now() + 1000).toISOString(),
      },
    ]);
    expect(res.status).toBe(202);
    await page.locator("#lookup-id").fill("e2e-wf-join");
    await page.locator("#lookup button").click();
    await expect.poll(() => page.locator("#waiting-on a").count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator("#waiting-on a").textContent()).toBe("e2e-wf-slow");
    expect(await page.locator("#depends-on a").count()).toBe(2);
    expect(await page.locator("#priority").textContent()).toBe("6");
    expect(await page.locator("#run-at").count()).toBe(1);
    expect(await page.locator("#workflow svg a[data-task]").count()).toBe(3);
    expect(await page.locator("#workflow svg line[data-kind='depends']").count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-workflow.png"), fullPage: true });
    // Once the slow dependency has ended, the join runs and the drawing follows.
    await expect
      .poll(() => page.locator(".task-head .status").textContent(), { timeout: 15_000 })
      .toBe("completed");
    expect(await page.locator("#waiting-on").textContent()).toMatch(/nothing/);
    expect(
      await page
        .locator("#workflow svg a[data-task]")
        .evaluateAll((as) => as.map((a) => a.getAttribute("data-status"))),
    ).toEqual(["completed", "completed", "completed"]);
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("a task's page shows its history and the chain of messages behind it", async () => {
    const res = await post("/tasks", {
      task_id: "e2e-task-page",
      task_type: "echo",
      payload: { hello: "triad" },
    });
    expect(res.status).toBe(202);
    await page.locator("#lookup-id").fill("e2e-task-page");
    await page.locator("#lookup button").click();
    // Polled whole: the page is drawn again as the task's events arrive (and, should a load fail
    // on a busy machine, a second later).
    await expect
      .poll(
        () =>
          page.locator("#timeline li").evaluateAll((lis) => lis.map((li) => li.getAttribute("data-event"))),
        { timeout: 10_000 },
      )
      .toEqual(["submitted", "assigned", "started", "committed"]);

    const chain = page.locator("#chain tbody tr");
    // The chain is drawn from its own request, and the page redraws as the task's events arrive.
    await expect
      .poll(() => chain.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-kind"))), {
        timeout: 10_000,
      })
      .toEqual(["assign_tasks", "execute_tasks", "task_results", "task_terminal"]);
    // Each message names the one before it as its cause.
    const cells = await chain.evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    cells.forEach((row, i) => {
      expect(row[3]).toMatch(uuid);
      expect(row[4]).toBe(i === 0 ? "—" : cells[i - 1]![3]);
    });
    expect(await page.locator(".task-head .status").textContent()).toBe("completed");
    expect(await page.locator("#task-page pre").first().textContent()).toContain('"hello": "triad"');
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-task.png"), fullPage: true });

    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("cancels an open task from its page: it ends abandoned, canceled by client", async () => {
    const res = await post("/tasks", { task_id: "e2e-cancel", task_type: "sleep", payload: { ms: 60_000 } });
    expect(res.status).toBe(202);
    await page.locator("#lookup-id").fill("e2e-cancel");
    await page.locator("#lookup button").click();
    await page.locator("#cancel-task").waitFor({ timeout: 10_000 });
    // The page follows the task's own event stream, with the token in a header.
    const eventsPath = "/tasks/e2e-cancel/events";
    await expect
      .poll(() => requests.filter((r) => r.path === eventsPath).length, { timeout: 10_000 })
      .toBe(1);
    expect(requests.find((r) => r.path === eventsPath)?.bearer).toBe(true);
    // ... and the coordinator follows the task for it (the only event stream open).
    const followed = async () => {
      const text = await (
        await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      return Number(/^triad_task_event_streams(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
    };
    await expect.poll(followed, { timeout: 10_000 }).toBe(1);
    // A long sleep reports how far it got once a second: the page shows each new value as the
    // stream brings it, replacing the progress card in place (no reload of the page between).
    const slept = async () => {
      const text = await page
        .locator("#progress")
        .textContent()
        .catch(() => "");
      let shown: { slept_ms?: unknown; of_ms?: unknown } | null = null;
      try {
        shown = JSON.parse(text ?? "");
      } catch {}
      return shown?.of_ms === 60_000 && typeof shown.slept_ms === "number" ? shown.slept_ms : null;
    };
    await expect.poll(slept, { timeout: 10_000 }).not.toBeNull();
    const first = (await slept())!;
    const loadsBefore = requests.filter((r) => r.path === "/tasks/e2e-cancel/history").length;
    await expect.poll(slept, { timeout: 10_000 }).toBeGreaterThan(first);
    const second = (await slept())!;
    await expect.poll(slept, { timeout: 10_000 }).toBeGreaterThan(second);
    expect(requests.filter((r) => r.path === "/tasks/e2e-cancel/history").length).toBe(loadsBefore);
    expect(requests.filter((r) => r.path === eventsPath).length).toBe(1); // one stream, never reopened
    expect(await page.locator("#progress-bar").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-progress.png"), fullPage: true });
    await page.locator("#cancel-task").click();
    await expect
      .poll(() => page.locator(".task-head .status").textContent(), { timeout: 10_000 })
      .toBe("abandoned");
    expect(await page.locator("#cancel-task").count()).toBe(0); // a finished task has no button
    await expect
      .poll(() => page.locator("#timeline li[data-event='abandoned']").textContent(), { timeout: 10_000 })
      .toContain("canceled by client");
    const task = await (
      await fetch(`${url}/tasks/e2e-cancel`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json();
    expect(task).toMatchObject({ status: "abandoned", error: "canceled by client" });
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
    // The abandoned task is the chart's first failure mark.
    await expect
      .poll(() => page.locator("#chart-throughput .s-failed").count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
  });

  it("falls back to polling when the task's event stream fails: its progress still moves", async () => {
    await page.route("**/tasks/e2e-poll/events", (route) => route.abort("failed"));
    const res = await post("/tasks", { task_id: "e2e-poll", task_type: "sleep", payload: { ms: 60_000 } });
    expect(res.status).toBe(202);
    await page.locator("#lookup-id").fill("e2e-poll");
    await page.locator("#lookup button").click();
    await page.locator("#cancel-task").waitFor({ timeout: 10_000 });
    const slept = async () => {
      const text = await page
        .locator("#progress")
        .textContent()
        .catch(() => "");
      try {
        return (JSON.parse(text ?? "") as { slept_ms?: number }).slept_ms ?? null;
      } catch {
        return null;
      }
    };
    await expect.poll(slept, { timeout: 15_000 }).not.toBeNull();
    const first = (await slept())!;
    await expect.poll(slept, { timeout: 10_000 }).toBeGreaterThan(first);
    // Three tries of the stream, then the page reads the task again and again instead. Progress
    // that moved needs two reads only (the first may already show some, a loaded machine's worker
    // having reported before the page opened): the third read is waited for, a second after.
    expect(requests.filter((r) => r.path === "/tasks/e2e-poll/events").length).toBe(3);
    await expect
      .poll(() => requests.filter((r) => r.path === "/tasks/e2e-poll/history").length, { timeout: 10_000 })
      .toBeGreaterThan(2);
    expect(requests.filter((r) => r.path === "/tasks/e2e-poll/events").length).toBe(3);
    await post("/tasks/e2e-poll/cancel", {});
    await expect
      .poll(() => page.locator(".task-head .status").textContent(), { timeout: 10_000 })
      .toBe("abandoned");
    await page.unroute("**/tasks/e2e-poll/events");
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("answers a task waiting for input from its page: the form sends the value and the graph resumes", async () => {
    const res = await post("/tasks", {
      task_id: "e2e-approval",
      task_type: "approval",
      payload: { to: "Ada", topic: "the launch" },
    });
    expect(res.status).toBe(202);
    // The overview counts it while it waits.
    await page.locator('[data-stat="input_required"] .value[data-value="1"]').waitFor({ timeout: 10_000 });
    await page.locator("#lookup-id").fill("e2e-approval");
    await page.locator("#lookup button").click();
    await page.locator("#input-form").waitFor({ timeout: 10_000 });
    expect(await page.locator(".task-head .status").textContent()).toBe("input_required");
    expect(await page.locator("#input-request").textContent()).toContain("Send this draft?");
    await page.locator("#input-value").fill("yes");
    await page.waitForTimeout(1200); // what was typed stays while the page waits (no redraw)
    expect(await page.locator("#input-value").inputValue()).toBe("yes");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-input.png"), fullPage: true });
    await page.locator("#input-form button").click();
    await expect
      .poll(() => page.locator(".task-head .status").textContent(), { timeout: 10_000 })
      .toBe("completed");
    expect(await page.locator("#inputs-given").textContent()).toContain('"yes"');
    expect(await page.locator("#timeline li[data-event='input_given']").textContent()).toContain('"yes"');
    const task = await (
      await fetch(`${url}/tasks/e2e-approval`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json();
    expect(task).toMatchObject({ status: "completed", inputs: ["yes"], result: { verdict: "approved" } });
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("shows the limits per task type and the schedules, with a tick's task linked", async () => {
    await expect
      .poll(() => page.locator('#limits tr[data-limit="sleep"] td').allTextContents(), { timeout: 10_000 })
      .toEqual(["sleep", "4", "–", "0", "0"]);
    const created = await post("/schedules", {
      schedule_id: "e2e-beat",
      every_ms: 1000,
      task: { task_type: "echo" },
    });
    expect(created.status).toBe(201);
    const row = page.locator('#schedules tr[data-schedule="e2e-beat"]');
    await expect.poll(() => row.locator("a").count(), { timeout: 10_000 }).toBe(1);
    expect(await row.locator("td").nth(1).textContent()).toBe("every 1.00 s");
    expect(await row.locator("a").textContent()).toMatch(/^e2e-beat@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-limits-schedules.png"), fullPage: true });
    await fetch(`${url}/schedules/e2e-beat`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  });

  it("raised no console errors, page errors or failed requests", () => {
    expect(problems).toEqual([]);
  });
});
