import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, type TestAgent } from "../helpers/a2a-test-agent.js";
import {
  ARTIFACTS,
  type DashboardBrowser,
  openDashboardBrowser,
  requireChromium,
} from "../helpers/dashboard-browser.js";
import { freePort } from "../helpers/free-port.js";
import { START_UP_MS, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core) shows the
 * remote A2A agent a `triad worker --a2a-agent URL` process bridges — the agent's name from its
 * card, its URL and its skills — in that worker's row. Every tier is its own bin/triad process
 * on a real Redis; the agent is built from the A2A SDK's server classes (test/helpers). A
 * screenshot is kept in test-artifacts/. Without chromium this fails; it never skips.
 */

/** What the page's window gives a test's evaluate() (the tests compile without the DOM types). */
type BrowserWindow = { getComputedStyle(el: unknown): { opacity: string } };

describe("the dashboard in Chromium: a worker's remote A2A agent", () => {
  const env = { TRIAD_SECRET: "dashboard-a2a-e2e", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let agent: TestAgent;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";
  let distributorUrl = "";
  let browser: DashboardBrowser | undefined;

  beforeAll(async () => {
    requireChromium();
    redis = await testRedis();
    agent = await startTestAgent();
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    // The three processes and the browser side by side, each process given its upstream's
    // address before that one listens (an agent waits for its upstream).
    const [[c, d]] = await Promise.all([
      startSideBySide(
        [
          ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
          [
            ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
            ...["--redis", redis.url, "--port", String(dp)],
          ],
          [
            ...["worker", "--id", "w-bridge", "--distributor", `http://127.0.0.1:${dp}`],
            ...["--port", String(wp), "--a2a-agent", agent.url],
          ],
        ],
        { env, into: procs },
      ),
      openDashboardBrowser({ width: 1440, height: 900 }).then((b) => {
        browser = b;
      }),
    ]);
    coordinatorUrl = c.url;
    distributorUrl = d.url;
  }, 2 * START_UP_MS); // the start-ups side by side, each bounded at START_UP_MS

  afterAll(async () => {
    await browser?.close();
    for (const p of procs) await p.kill();
    await agent?.close();
    await redis?.close();
  });

  it("the bridging worker's row names the agent, its URL and its skills", async () => {
    const page = browser!.page;
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });
    await page.goto(coordinatorUrl);

    const row = page.locator('#agents tbody tr[data-tier="worker"][data-agent="w-bridge"]');
    await row.waitFor({ timeout: 20_000 });
    const remote = row.locator(".remote-agent");
    // The card is read once the worker has started; the heartbeat after that carries its name.
    await expect.poll(() => remote.textContent(), { timeout: 20_000 }).toContain("A2A → Test agent");
    expect(await remote.count()).toBe(1);
    expect(await remote.locator(".remote-url").textContent()).toBe(agent.url);
    const text = (await remote.textContent()) ?? "";
    for (const skill of ["echo", "words", "fail", "ask", "slow"]) expect(text).toContain(skill);
    expect(await remote.getAttribute("title")).toBe("skills: echo, words, fail, ask, slow");
    // The coordinator and distributor rows bridge nothing.
    expect(await page.locator('#agents tbody tr:not([data-tier="worker"]) .remote-agent').count()).toBe(0);
    expect(await page.locator("#agent-summary").textContent()).toBe("1 distributor · 1 worker");

    // A fresh cluster that has run nothing: the charts hold its empty seconds (the tooltip reads
    // them), draw no line or failure mark for them, say so, and label their axes with distinct
    // round values (not the rounded ticks of a 0–1 range: 0, 0, 1, 1, 1).
    const overlay = page.locator("#chart-throughput rect");
    const tip = async () => {
      const box = await overlay.boundingBox();
      await overlay.hover({ position: { x: (box?.width ?? 10) - 2, y: 10 }, force: true });
      return page.locator("#chart-throughput text.tip").textContent();
    };
    await expect.poll(tip, { timeout: 10_000 }).toMatch(/s ago · completed 0 · failed 0$/);
    await page.mouse.move(0, 0);
    const ticks = (chart: string) => page.locator(`${chart} text.tick`).allTextContents();
    expect(await ticks("#chart-throughput")).toEqual(["0", "1", "2", "3", "4", "5"]);
    expect(await ticks("#chart-latency")).toEqual(["0", "0.2 ms", "0.4 ms", "0.6 ms", "0.8 ms", "1.0 ms"]);
    for (const chart of ["#chart-throughput", "#chart-latency"]) {
      expect(await page.locator(`${chart} .line, ${chart} .area, ${chart} .dot`).count()).toBe(0);
      expect(await page.locator(`${chart} text.empty`).textContent()).toBe(
        "No tasks finished in the last 5 minutes",
      );
    }
    expect(await page.locator("#chart-throughput .s-failed").count()).toBe(0);
    expect(await page.locator("#limits tbody").textContent()).toBe("No limits (PUT /limits/:task_type).");
    expect(await page.locator("#schedules tbody").textContent()).toBe("No schedules (triad schedule add).");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-a2a-agent.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it(
    "a worker stopped gracefully (SIGTERM) is shown as stopped, not dead, and counted apart",
    async () => {
      const page = browser!.page;
      const args = ["worker", "--id", "w-stop", "--distributor", distributorUrl, "--port"];
      const [{ proc: worker }] = await startSideBySide([[...args, String(await freePort())]], {
        env,
        into: procs,
      });
      const status = page.locator('#agents tbody tr[data-agent="w-stop"] .status');
      await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/^(idle|busy)$/);
      worker.signal("SIGTERM");
      expect((await worker.exit()).code).toBe(0);
      // Declared dead a heartbeat timeout after its last heartbeat, which said it stops.
      await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("stopped");
      expect(await status.getAttribute("data-status")).toBe("stopped");
      expect(await page.locator("#agent-summary").textContent()).toBe(
        "1 distributor · 2 workers · 1 stopped",
      );
    },
    2 * START_UP_MS,
  );

  it(
    "a distributor stopped gracefully (SIGTERM) and its workers are shown as stopped, none marked as a crash",
    async () => {
      const page = browser!.page;
      await page.goto(coordinatorUrl); // its own page load: it runs alone too (-t)
      const port = async () => String(await freePort());
      const dPort = await port();
      // The distributor and its two workers side by side, the workers given its address before
      // it listens (an agent waits for its upstream).
      const under = (id: string) => ["worker", "--id", id, "--distributor", `http://127.0.0.1:${dPort}`];
      const [{ proc: d }] = await startSideBySide(
        [
          [
            ...["distributor", "--id", "d-stop", "--coordinator", coordinatorUrl],
            ...["--redis", redis.url, "--port", dPort],
          ],
          [...under("w-under-1"), "--port", await port()],
          [...under("w-under-2"), "--port", await port()],
        ],
        { env, into: procs },
      );
      const ids = ["d-stop", "w-under-1", "w-under-2"];
      const row = (id: string) => page.locator(`#agents tbody tr[data-agent="${id}"]`);
      for (const id of ids)
        await expect
          .poll(() => row(id).locator(".status").textContent(), { timeout: 20_000 })
          .toMatch(/^(idle|busy)$/);
      d.signal("SIGTERM");
      expect((await d.exit()).code).toBe(0);
      for (const id of ids) {
        await expect
          .poll(() => row(id).locator(".status").textContent(), { timeout: 20_000 })
          .toBe("stopped");
        expect(await row(id).getAttribute("data-status"), id).toBe("stopped");
        // Dimmed as it runs nothing, not marked (class) as a crash, nor as unreachable.
        expect(await row(id).getAttribute("class"), id).toBe("stopped");
        expect(await row(id).locator(".status-reason").count(), id).toBe(0);
      }
      // Read until the page's last redraw has settled (a live update redraws the rows).
      await expect
        .poll(
          () =>
            row("w-under-1")
              .locator("td")
              .first()
              .evaluate((td) => (globalThis as unknown as BrowserWindow).getComputedStyle(td).opacity),
          { timeout: 20_000 },
        )
        .toBe("0.55");
      expect(await page.locator("#agents tbody tr.dead").count()).toBe(0);
      expect(await page.locator("#agent-summary").textContent()).toBe(
        "2 distributors · 4 workers · 4 stopped",
      );
    },
    3 * START_UP_MS,
  );
});
