import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * The real browser the dashboard tests drive: Debian's chromium (or TRIAD_CHROMIUM) through
 * playwright-core, in a profile of its own that is removed when it closes. Without chromium a
 * dashboard test fails, naming what is missing; it never skips.
 */

export const CHROMIUM = process.env.TRIAD_CHROMIUM ?? "/usr/bin/chromium";

/** Where the dashboard tests keep their screenshots. */
export const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts");

/** Throws unless chromium is there (call it before starting anything else); makes ARTIFACTS. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed for the dashboard test and is not at ${CHROMIUM}: apt-get install chromium (or set TRIAD_CHROMIUM)`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
}

export type DashboardBrowser = {
  context: BrowserContext;
  /** The window chromium opened with. */
  page: Page;
  /** Closes the browser and removes its profile. */
  close: () => Promise<void>;
};

/** Chromium with a fresh profile and a window of `viewport`, nothing of its own on the network. */
export async function openDashboardBrowser(viewport: {
  width: number;
  height: number;
}): Promise<DashboardBrowser> {
  requireChromium();
  const profile = mkdtempSync(join(tmpdir(), "triad-chromium-"));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
      viewport,
    });
  } catch (err) {
    removeProfile();
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      try {
        await context.close();
      } finally {
        removeProfile();
      }
    },
  };
}
