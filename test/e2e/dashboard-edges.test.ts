import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../src/server/coordinator-server.js";
import { TestCluster } from "../helpers/cluster.js";
import {
  ARTIFACTS,
  type DashboardBrowser,
  openDashboardBrowser,
  requireChromium,
} from "../helpers/dashboard-browser.js";

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) at its edges:
 * a coordinator that freezes (as under SIGSTOP: its connections stay open, nothing comes back)
 * is shown as a lost live feed within seconds, and the page follows again by itself once it
 * wakes; and a task id of the longest length allowed keeps the overview within the window.
 * The coordinator runs in this process (its page is served from src/), behind a TCP proxy that
 * the test freezes. Without chromium this fails; it never skips.
 */

const TOKEN = "dashboard-edges-token";

/** A TCP proxy that can freeze: while frozen it reads and forwards nothing, new connections included. */
class FreezingProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  private refusing = false;
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target, "127.0.0.1");
      client.pipe(upstream);
      upstream.pipe(client);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
        s.on("close", () => this.sockets.delete(s));
        if (this.frozen) s.pause();
      }
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** While refusing, every connection (open or new) is closed at once: the coordinator out of reach. */
  refuse(on: boolean): void {
    this.refusing = on;
    if (on) for (const s of this.sockets) s.destroy();
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe("the dashboard in Chromium, at its edges", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let proxy: FreezingProxy;
  let browser: DashboardBrowser;
  let page: Page;
  let url = "";

  beforeAll(async () => {
    requireChromium();
    cluster = new TestCluster(
      { url: `memory://dashboard-edges-${process.pid}` },
      {
        handlers: {
          boom: () => {
            throw new Error("failed on purpose");
          },
          echo: (t: Task) => t.payload,
          // Asks until it is given a value; completes with the last one.
          ask: (_t: Task, ctx) => {
            if (ctx.inputs.length === 0) ctx.requestInput({ question: "anything?" });
            return { got: ctx.inputs.at(-1) ?? null };
          },
          // One unbroken line of thousands of characters, with markup that must stay text.
          boom_long: () => {
            throw new Error(`<img src=x onerror="window.__pwned=1">${"L".repeat(5000)}`);
          },
        },
      },
    );
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, apiToken: TOKEN });
    proxy = new FreezingProxy(Number(new URL(server.url).port));
    await proxy.listen();
    url = `http://127.0.0.1:${proxy.port}/`;
    browser = await openDashboardBrowser({ width: 1440, height: 1000 });
    page = browser.page;
    await page.goto(url);
    await page.locator("#token-dialog").waitFor({ state: "visible" });
    await page.locator("#token-input").fill(TOKEN);
    await page.locator("#token-form button").click();
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.close();
    await cluster?.stop();
  });

  it("a task id of the longest length allowed stays within the window, whole in its title", async () => {
    const id = "x".repeat(200);
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "boom", payload: {} })).toBe(true);
    expect((await cluster.coordinator.waitForTask(id, 10_000))?.status).toBe("failed");
    const link = (list: string) => page.locator(`#${list} a[href="#/tasks/${id}"]`);
    await link("failures").waitFor({ timeout: 10_000 });
    await link("retries").waitFor({ timeout: 10_000 });
    for (const list of ["failures", "retries"]) expect(await link(list).getAttribute("title")).toBe(id);
    const width = () =>
      page.evaluate<{ page: number; overview: number; window: number }>(`({
        page: document.documentElement.scrollWidth,
        overview: document.querySelector("#overview").scrollWidth,
        window: window.innerWidth,
      })`);
    for (const viewport of [
      { width: 1440, height: 1000 },
      { width: 900, height: 1000 }, // one column
    ]) {
      await page.setViewportSize(viewport);
      const w = await width();
      expect(w.page, JSON.stringify(w)).toBeLessThanOrEqual(w.window);
      expect(w.overview, JSON.stringify(w)).toBeLessThanOrEqual(w.window);
      await page.screenshot({
        path: join(ARTIFACTS, `dashboard-long-id-${viewport.width}.png`),
        fullPage: true,
      });
    }
    await page.setViewportSize({ width: 1440, height: 1000 });
    // The link opens the task's page, with the whole id.
    await link("failures").click();
    await expect.poll(() => page.locator(".task-head h1").textContent(), { timeout: 10_000 }).toContain(id);
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("a task page whose error is one line of thousands of characters stays within the window", async () => {
    const id = "long-error";
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "boom_long", payload: {} })).toBe(
      true,
    );
    expect((await cluster.coordinator.waitForTask(id, 10_000))?.status).toBe("failed");
    await page.locator("#lookup-id").fill(id);
    await page.locator("#lookup button").click();
    // The history shows each failed attempt's error; the Error card shows the last.
    await page.locator('#timeline li[data-event="committed"]').waitFor({ timeout: 10_000 });
    const width = () =>
      page.evaluate<{ page: number; window: number; pwned: unknown }>(`({
        page: document.documentElement.scrollWidth,
        window: window.innerWidth,
        pwned: window.__pwned,
      })`);
    for (const viewport of [
      { width: 1440, height: 1000 },
      { width: 900, height: 1000 }, // one column
    ]) {
      await page.setViewportSize(viewport);
      const w = await width();
      expect(w.page, JSON.stringify(w)).toBeLessThanOrEqual(w.window);
      expect(w.pwned).toBeUndefined();
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-long-error-${viewport.width}.png`) });
    }
    await page.setViewportSize({ width: 1440, height: 1000 });
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("the overview's lists show a long error in a few lines, the whole of it in their title", async () => {
    // Fails three times with an error of 5,000 characters.
    const id = "long-error-listed";
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "boom_long", payload: {} })).toBe(
      true,
    );
    expect((await cluster.coordinator.waitForTask(id, 10_000))?.status).toBe("failed");
    for (const list of ["failures", "retries"]) {
      const item = page.locator(`#${list} li`, { has: page.locator(`a[href="#/tasks/${id}"]`) });
      await item.waitFor({ timeout: 10_000 });
      for (const detail of await item.locator(".detail").all()) {
        const box = await detail.boundingBox();
        expect(box?.height, list).toBeLessThan(60); // three lines of 12.5 px text
        const text = (await detail.textContent()) ?? "";
        expect(text.length, list).toBeGreaterThan(250); // retries keep the first 300 or so characters
        expect(await detail.getAttribute("title")).toBe(text);
      }
    }
  });

  it("a task page gives the date of a run_at or expires_at on another day, not only its time", async () => {
    const id = "far-off";
    const runAt = "2030-06-15T12:00:00.000Z";
    const expiresAt = "2031-01-01T12:00:00.000Z";
    expect(
      await cluster.coordinator.submitTask({
        task_id: id,
        task_type: "echo",
        payload: {},
        run_at: runAt,
        expires_at: expiresAt,
      }),
    ).toBe(true);
    await page.locator("#lookup-id").fill(id);
    await page.locator("#lookup button").click();
    await page.locator("#run-at").waitFor({ timeout: 10_000 });
    // In the browser's zone (whatever the machine's): its own formatting of the date.
    const day = (iso: string) =>
      page.evaluate((at) => {
        const d = new Date(at);
        const two = (n: number) => String(n).padStart(2, "0");
        return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
      }, iso);
    expect(await page.locator("#run-at").textContent()).toContain(await day(runAt));
    expect(await page.locator("#expires-at").textContent()).toContain(await day(expiresAt));
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it('the input form refuses to send an empty box, and sends an empty string typed as ""', async () => {
    const id = "ask-empty";
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "ask", payload: {} })).toBe(true);
    await page.locator("#lookup-id").fill(id);
    await page.locator("#lookup button").click();
    await page.locator("#input-value").waitFor({ timeout: 10_000 });
    for (const blank of ["", "  \n "]) {
      await page.locator("#input-value").fill(blank);
      await page.locator("#input-form button").click();
      await expect
        .poll(() => page.locator("#input-error").textContent(), { timeout: 10_000 })
        .toMatch(/^Nothing to send/);
    }
    expect((await cluster.coordinator.core.getTask(id))?.status).toBe("input_required");
    await page.locator("#input-value").fill('""');
    await page.locator("#input-form button").click();
    expect((await cluster.coordinator.waitForTask(id, 10_000))?.result).toEqual({ got: "" });
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("a cancel that could not reach the coordinator says so once, and the button works again", async () => {
    const id = "cancel-unreached";
    expect(
      await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 60_000 } }),
    ).toBe(true);
    await page.locator("#lookup-id").fill(id);
    await page.locator("#lookup button").click();
    await page.locator("#cancel-task").waitFor({ timeout: 10_000 });
    // The page's reloads of the task that found the coordinator out of reach.
    const history = `/tasks/${id}/history`;
    let reloadsFailed = 0;
    const failedReload = (request: { url(): string }) => {
      if (new URL(request.url()).pathname === history) reloadsFailed++;
    };
    page.on("requestfailed", failedReload);
    proxy.refuse(true);
    try {
      // Out of reach long enough for the page to give up its event stream and poll, a poll
      // failing (what a loaded machine made of the clicks below: the page and its button gone).
      await expect.poll(() => reloadsFailed, { timeout: 20_000 }).toBeGreaterThan(0);
      // The page still shows the task, dimmed, saying it could not read it again and from when.
      expect(await page.locator(".task-head h1").textContent()).toBe(id);
      await expect
        .poll(() => page.locator("#task-error").textContent(), { timeout: 10_000 })
        .toMatch(/^Could not read the task: .+ · shown as of \d\d:\d\d:\d\d\.\d{3}$/);
      expect(await page.locator("#task-body").evaluate((el) => el.hasAttribute("data-stale"))).toBe(true);
      for (let i = 0; i < 2; i++) {
        await page.locator("#cancel-task").click();
        await expect.poll(() => page.locator("#cancel-error").count(), { timeout: 10_000 }).toBe(1);
        expect(await page.locator("#cancel-error").textContent()).toMatch(/^Not canceled: /);
        await expect.poll(() => page.locator("#cancel-task").isEnabled(), { timeout: 10_000 }).toBe(true);
      }
    } finally {
      page.off("requestfailed", failedReload);
      proxy.refuse(false);
    }
    // Read again once the coordinator answers: the notice gone, the page no longer dimmed.
    await expect.poll(() => page.locator("#task-error").count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator("#task-body").evaluate((el) => el.hasAttribute("data-stale"))).toBe(false);
    await page.locator("#cancel-task").click();
    expect((await cluster.coordinator.waitForTask(id, 10_000))?.error).toBe("canceled by client");
    await expect
      .poll(() => page.locator(".task-head .status").textContent(), { timeout: 10_000 })
      .toBe("abandoned");
    await page.locator("a.back").click();
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
  });

  it("the Limits and Schedules tables say when they could not be read, and clear once they can", async () => {
    await cluster.coordinator.setLimit("sleep", { concurrency: 2 });
    await expect.poll(() => page.locator("#overview").isVisible(), { timeout: 10_000 }).toBe(true);
    await page.locator('#limits tr[data-limit="sleep"]').waitFor({ timeout: 10_000 });
    await page.locator("#schedules tbody tr").first().waitFor({ timeout: 10_000 });
    proxy.refuse(true);
    try {
      for (const which of ["limits", "schedules"]) {
        const notice = page.locator(`#${which}-error`);
        await notice.waitFor({ timeout: 10_000 });
        expect(await notice.textContent()).toMatch(
          new RegExp(`^Could not read ${which}: .+ · shown as of \\d\\d:\\d\\d:\\d\\d\\.\\d{3}$`),
        );
        expect(await page.locator(`#${which}`).evaluate((el) => el.hasAttribute("data-stale"))).toBe(true);
      }
      // The rows read before are still there, dimmed, not dropped.
      expect(await page.locator('#limits tr[data-limit="sleep"]').count()).toBe(1);
    } finally {
      proxy.refuse(false);
    }
    for (const which of ["limits", "schedules"]) {
      await expect.poll(() => page.locator(`#${which}-error`).count(), { timeout: 10_000 }).toBe(0);
      expect(await page.locator(`#${which}`).evaluate((el) => el.hasAttribute("data-stale"))).toBe(false);
    }
    await expect
      .poll(() => page.locator("#conn").getAttribute("data-state"), { timeout: 20_000 })
      .toBe("live");
  }, 60_000);

  it("says the live feed is lost while the coordinator is frozen, and follows again once it wakes", async () => {
    const conn = () => page.locator("#conn").getAttribute("data-state");
    await expect.poll(conn, { timeout: 10_000 }).toBe("live");
    const submitted = page.locator('[data-stat="submitted"] .value');
    const before = Number(await submitted.getAttribute("data-value"));

    proxy.freeze();
    // The stream's next request is the page's reconnect (after the stall and a 1 s backoff).
    const reconnect = page.waitForRequest((r) => new URL(r.url()).pathname === "/events", {
      timeout: 20_000,
    });
    reconnect.catch(() => {}); // awaited below; a failure before that must not surface as unhandled
    const frozenAt = performance.now();
    await expect.poll(conn, { timeout: 10_000, interval: 100 }).toBe("reconnecting");
    expect(performance.now() - frozenAt).toBeLessThan(8_000);
    // What the overview still shows is the coordinator's last word, not now: dimmed, and the
    // pill says from when.
    const stale = () => page.locator("#overview").evaluate((el) => el.hasAttribute("data-stale"));
    expect(await stale()).toBe(true);
    expect(await page.locator("#conn").textContent()).toMatch(
      /^reconnecting · shown as of \d\d:\d\d:\d\d\.\d{3}$/,
    );
    // Still frozen: it keeps saying so (a reconnect gets no answer either). Once the page has sent
    // it, an answer would make it live at once: a second on it is still "reconnecting".
    await reconnect;
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await conn()).toBe("reconnecting");
    expect(await stale()).toBe(true);

    proxy.thaw();
    await expect.poll(conn, { timeout: 20_000 }).toBe("live");
    expect(await stale()).toBe(false);
    expect(await page.locator("#conn").textContent()).toBe("live");
    expect(
      await cluster.coordinator.submitTask({ task_id: "after-thaw", task_type: "echo", payload: {} }),
    ).toBe(true);
    await expect
      .poll(async () => Number(await submitted.getAttribute("data-value")), { timeout: 10_000 })
      .toBeGreaterThan(before);
  }, 60_000);
});
