import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent } from "../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../src/server/coordinator-server.js";
import {
  type DashboardBrowser,
  openDashboardBrowser,
  requireChromium,
} from "../helpers/dashboard-browser.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * The dashboard in a real browser (Debian's chromium) while its coordinator's redis-server is
 * stopped and started again: the live stream stays up (the coordinator answers), so the header
 * must say the store is unreachable, and from when, and stop saying it once the store is back.
 * Without chromium this fails; it never skips.
 */

describe("the dashboard's header during a store outage, in Chromium", () => {
  let redis: RedisServer;
  let coordinator: CoordinatorAgent;
  let server: RunningServer;
  let browser: DashboardBrowser;
  let page: Page;

  beforeAll(async () => {
    requireChromium();
    redis = await RedisServer.start();
    coordinator = new CoordinatorAgent({
      agentId: `c-${randomUUID().slice(0, 6)}`,
      redis: { url: redis.url, keyPrefix: `dash-outage-${randomUUID().slice(0, 6)}:` },
    });
    await coordinator.initialize();
    server = await startCoordinatorServer(coordinator, { port: 0 });
    browser = await openDashboardBrowser({ width: 1200, height: 900 });
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await coordinator?.cleanup();
    await redis?.destroy();
  }, 60_000);

  it("says 'store unreachable since HH:MM:SS' while the redis-server is stopped, and nothing once it is back", async () => {
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    expect(await page.locator("#store").isHidden()).toBe(true);

    await redis.stop();
    const pill = page.locator("#store");
    await pill.waitFor({ state: "visible", timeout: 30_000 });
    expect(await pill.textContent()).toMatch(/^store unreachable since \d{2}:\d{2}:\d{2}\.\d{3}$/);
    // The stream to the coordinator is fine: the page says which part is down.
    expect(await page.locator("#conn").getAttribute("data-state")).toBe("live");
    const state = (await (await fetch(`${server.url}/dashboard/state`)).json()) as {
      store: { reachable: boolean; unreachable_since: string | null };
    };
    expect(state.store.reachable).toBe(false);
    expect(Date.parse(state.store.unreachable_since ?? "")).toBeLessThanOrEqual(Date.now());

    await redis.startAgain();
    await pill.waitFor({ state: "hidden", timeout: 30_000 });
    const after = (await (await fetch(`${server.url}/dashboard/state`)).json()) as { store: unknown };
    expect(after.store).toEqual({ reachable: true, unreachable_since: null });
  }, 120_000);
});
