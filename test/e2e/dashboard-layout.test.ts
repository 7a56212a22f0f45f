import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../src/server/coordinator-server.js";
import { TestCluster } from "../helpers/cluster.js";
import {
  ARTIFACTS,
  type DashboardBrowser,
  openDashboardBrowser,
  requireChromium,
} from "../helpers/dashboard-browser.js";

/**
 * The dashboard's task page in a real browser (Debian's chromium, driven by playwright-core)
 * with more than fits: a workflow that fans out hundreds of tasks, an error of one unbroken
 * line. Nothing may make the page (or a card) scroll sideways, at a wide and a narrow window.
 * The coordinator runs in this process (its page is served from src/). Without chromium this
 * fails; it never skips.
 */

const VIEWPORTS = [
  { width: 1440, height: 1000 },
  { width: 900, height: 1000 }, // one column
];

describe("the dashboard's task page in Chromium, with more than fits", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let browser: DashboardBrowser;
  let page: Page;
  const problems: string[] = [];

  /** How wide the page is against the window, and the widest sideways scroll inside `selector`. */
  const widths = (selector: string) =>
    page.evaluate<{ page: number; window: number; found: number; overflow: number }>(`(() => {
      const inner = [...document.querySelectorAll(${JSON.stringify(selector)})].map(
        (el) => el.scrollWidth - el.clientWidth,
      );
      return {
        page: document.documentElement.scrollWidth,
        window: window.innerWidth,
        found: inner.length,
        overflow: Math.max(0, ...inner),
      };
    })()`);

  /** "fits" when one drawing is found and neither it nor the page scrolls sideways; else what was measured. */
  const fits = (w: { page: number; window: number; found: number; overflow: number }) =>
    w.found === 1 && w.page <= w.window && w.overflow === 0 ? "fits" : JSON.stringify(w);

  const openTask = async (id: string) => {
    await page.goto(`${server.url}/#/tasks/${encodeURIComponent(id)}`);
    await page.locator(".task-head h1").filter({ hasText: id }).waitFor({ timeout: 10_000 });
  };

  beforeAll(async () => {
    requireChromium();
    cluster = new TestCluster(
      { url: `memory://dashboard-layout-${process.pid}` },
      {
        handlers: {
          echo: (t) => t.payload,
          // One unbroken line of thousands of characters.
          boom_long: () => {
            throw new Error(`E${"0123456789abcdef".repeat(300)}Z`);
          },
        },
      },
    );
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
    browser = await openDashboardBrowser(VIEWPORTS[0]!);
    page = browser.page;
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cluster?.stop();
  });

  it("a workflow that fans out 300 tasks shows the first of them and '+ N more', which opens the rest, wrapped", async () => {
    const children = Array.from({ length: 300 }, (_, i) => ({
      task_id: `fan-child-${String(i).padStart(3, "0")}`,
      task_type: "echo",
      payload: { i },
      depends_on: ["fan-root"],
    }));
    const created = await cluster.coordinator.submitTasks([
      { task_id: "fan-root", task_type: "echo", payload: {} },
      ...children,
    ]);
    expect(created.every(Boolean)).toBe(true);
    await openTask("fan-root");
    const nodes = page.locator("#workflow a[data-task]");
    const more = page.locator("#workflow [data-more]");
    await more.first().waitFor({ timeout: 10_000 });
    // Collapsed: a row of the first children, and one box for the rest that says how many.
    const shown = await nodes.count();
    expect(shown).toBeGreaterThan(1);
    expect(shown).toBeLessThan(40);
    expect(await more.count()).toBe(1);
    expect((await more.textContent())?.trim()).toBe(`+ ${301 - shown} more`);
    for (const viewport of [...VIEWPORTS, { width: 390, height: 844 }]) {
      await page.setViewportSize(viewport);
      // However narrow, the root and at least one child are drawn (a phone: one box a row).
      await expect.poll(() => nodes.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      // The drawing is redrawn on the window's resize event, which comes after setViewportSize
      // returns: measured once it has been (a measure before it saw the last width's drawing).
      await expect.poll(async () => fits(await widths(".workflow-scroll")), { timeout: 10_000 }).toBe("fits");
    }
    await page.setViewportSize(VIEWPORTS[0]!);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-fan-out-collapsed.png") });
    // Opened: every child drawn, in rows that fit the card; each still links to its page.
    await more.click();
    await expect.poll(() => nodes.count(), { timeout: 10_000 }).toBe(301);
    expect(await more.count()).toBe(0);
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await expect.poll(async () => fits(await widths(".workflow-scroll")), { timeout: 10_000 }).toBe("fits");
    }
    await page.setViewportSize(VIEWPORTS[0]!);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-fan-out-opened.png"), fullPage: true });
    await page.locator('#workflow a[data-task="fan-child-299"]').click();
    await page.locator(".task-head h1").filter({ hasText: "fan-child-299" }).waitFor({ timeout: 10_000 });
  }, 60_000);

  it("the Error card wraps an error of one unbroken line instead of scrolling sideways, and holds all of it", async () => {
    const id = "long-unbroken-error";
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "boom_long", payload: {} })).toBe(
      true,
    );
    const task = await cluster.coordinator.waitForTask(id, 10_000);
    expect(task?.status).toBe("failed");
    await openTask(id);
    const error = page.locator("pre.error");
    await error.waitFor({ timeout: 10_000 });
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      const w = await widths("pre.error");
      expect(w.found, JSON.stringify(w)).toBe(1);
      expect(w.page, JSON.stringify(w)).toBeLessThanOrEqual(w.window);
      expect(w.overflow, JSON.stringify(w)).toBe(0);
    }
    await page.setViewportSize(VIEWPORTS[0]!);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-error-wrapped.png") });
    // Wrapped for the eye only: the text (what a copy takes) is the error, whole, with no breaks added.
    expect(await error.textContent()).toBe(task?.error);
  });

  it("the overview never scrolls sideways, from a phone to a wide screen, and no counter sits alone on a row", async () => {
    // Long names in the tables: a task type of 100 characters limited, a schedule of 150 with a long zone.
    await cluster.coordinator.setLimit("t".repeat(100), { concurrency: 3, rate_per_s: 10 });
    await cluster.coordinator.upsertSchedule({
      schedule_id: `sched-ünïcødé-${"x".repeat(136)}`,
      cron: "*/5 * * * *",
      timezone: "America/Argentina/ComodRivadavia",
      task: { task_type: "echo", payload: {} },
    });
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
    await page.locator("#schedules tr[data-schedule]").waitFor({ timeout: 10_000 });
    for (const viewport of [...VIEWPORTS, { width: 1200, height: 1000 }, { width: 390, height: 844 }]) {
      await page.setViewportSize(viewport);
      // Charts are redrawn on the resize event, after setViewportSize returns: measured once they are.
      await expect
        .poll(
          async () => {
            const w = await widths("main .card");
            return w.page <= w.window ? "fits" : JSON.stringify({ viewport, ...w });
          },
          { timeout: 10_000 },
        )
        .toBe("fits");
      // The counters by row (their top): each row but the first holds at least two.
      const tops = await page
        .locator(".stat")
        .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().top));
      const rows = [...new Set(tops)].map((top) => tops.filter((t) => t === top).length);
      expect(tops.length).toBe(9);
      if (viewport.width >= 1440) expect(rows, `${viewport.width}`).toEqual([9]);
      expect(Math.min(...rows), `${viewport.width}: ${JSON.stringify(rows)}`).toBeGreaterThan(1);
      await page.screenshot({
        path: join(ARTIFACTS, `dashboard-overview-${viewport.width}.png`),
        fullPage: true,
      });
    }
    await page.setViewportSize(VIEWPORTS[0]!);
  });

  it("a link typed by hand with a bare % in the id (#/tasks/100%) opens that task, not the overview", async () => {
    expect(await cluster.coordinator.submitTask({ task_id: "100%", task_type: "echo", payload: {} })).toBe(
      true,
    );
    expect((await cluster.coordinator.waitForTask("100%", 10_000))?.status).toBe("completed");
    await page.goto(`${server.url}/#/tasks/100%`);
    await page.locator(".task-head h1").filter({ hasText: "100%" }).waitFor({ timeout: 10_000 });
    expect(await page.locator("#overview").isHidden()).toBe(true);
    expect(await page.locator(".task-head .status").textContent()).toBe("completed");
  });

  it("on a 390 px phone every counter's label is whole (NEEDS INPUT wraps, no ellipsis)", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
    const labels = await page.locator(".stat .label").evaluateAll((els) =>
      els.map((el) => ({
        text: el.textContent,
        // Cut short (an ellipsis, or hidden): more text than the box shows, sideways or downwards.
        cut: el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight,
      })),
    );
    expect(labels.length).toBe(9);
    expect(labels.filter((l) => l.cut)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-counters-390.png") });
    await page.setViewportSize(VIEWPORTS[0]!);
  });

  it("lists a crashed distributor's workers as unknown, unreachable through their dead distributor, not dead", async () => {
    await cluster.startDistributor("d9");
    await cluster.startWorker("w9", "d9");
    await page.goto(server.url);
    const row = (name: string) => page.locator(`#agents tr[data-agent="${cluster.id(name)}"]`);
    await row("w9")
      .and(page.locator('[data-status="idle"], [data-status="busy"]'))
      .waitFor({ timeout: 15_000 });
    await cluster.crash(cluster.distributors.get("d9")!);
    await row("d9").and(page.locator('[data-status="dead"]')).waitFor({ timeout: 15_000 });
    await row("w9").and(page.locator('[data-status="unknown"]')).waitFor({ timeout: 15_000 });
    expect(await row("w9").locator(".status-cell").textContent()).toBe(
      "unknown · unreachable (its distributor is dead)",
    );
    expect(await page.locator("#agent-summary").textContent()).toMatch(/· 1 unknown/);
  });

  it("raised no page errors", () => {
    expect(problems).toEqual([]);
  });
});
