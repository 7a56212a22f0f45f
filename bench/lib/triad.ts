import type * as Triad from "../../src/index.js";

/**
 * Triad as its users run it: the compiled package in dist/ (`npm run bench` builds it first),
 * as BullMQ runs from its compiled JavaScript. `TRIAD_BENCH_SOURCE=1` runs the TypeScript
 * sources instead, through tsx (its transform adds a little of its own to every function).
 * `TRIAD_BENCH_DIST=<folder>` (relative to the repository) runs another build, to compare two
 * builds side by side (copy dist/ aside, change, build, and alternate the two).
 */
const source = process.env.TRIAD_BENCH_SOURCE === "1";

async function load(): Promise<typeof Triad> {
  if (source) return import("../../src/index.js");
  try {
    // A computed specifier: the type check (which runs before any build) must not look for dist/.
    return (await import(
      ["..", "..", process.env.TRIAD_BENCH_DIST ?? "dist", "index.js"].join("/")
    )) as typeof Triad;
  } catch (err) {
    throw new Error(
      `the benchmark runs the built package: run \`npm run build\` first (or set TRIAD_BENCH_SOURCE=1): ${(err as Error).message}`,
    );
  }
}

export const triad: typeof Triad = await load();
export const TRIAD_FROM = source ? "src (tsx)" : "dist";
