import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The test tree's polled waits say how long they wait. vitest's expect.poll and vi.waitFor give
 * up after 1 s unless told otherwise: on a loaded machine a page takes longer than that to show
 * a click's effect, and a process can be off the CPU for a second, so a 1 s default failed
 * tests with nothing wrong. Each names a timeout fit for what it waits for.
 */

const ROOT = join(import.meta.dirname, "../../..");
const WAITS = /\bexpect\s*\.poll\s*\(|\bvi\s*\.wait(For|Until)\s*\(/g;

/** The arguments of the call whose "(" is at `open`, split at their top-level commas (strings skipped). */
function callArguments(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return args;
      }
    } else if (c === "," && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  throw new Error(`no end to the call at ${open}`);
}

/** Each polled wait in `text` without a timeout, as "line: code". */
function untimedWaits(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(WAITS)) {
    const args = callArguments(text, m.index + m[0].length - 1);
    if (!args.slice(1).some((a) => /\btimeout\s*:|^\s*\d[\d_]*\s*$|_MS\b/.test(a))) {
      const line = text.slice(0, m.index).split("\n").length;
      found.push(`${line}: ${text.slice(m.index, m.index + 80).split("\n")[0]}`);
    }
  }
  return found;
}

describe("polled waits in the tests", () => {
  it("finds a wait without a timeout, and takes one with it", () => {
    expect(untimedWaits("await expect\n  .poll(() => f(a, b)).toBe(1);")).toHaveLength(1);
    expect(untimedWaits('await vi.waitFor(() => expect(g(")")).toBe(2));')).toHaveLength(1);
    expect(untimedWaits("await expect.poll(() => f(a, b), { timeout: 10_000 }).toBe(1);")).toEqual([]);
    expect(untimedWaits("await vi.waitFor(() => check(), { timeout: PAGE_MS, interval: 50 });")).toEqual([]);
  });

  it("every expect.poll and vi.waitFor under test/ says how long it waits", () => {
    const untimed: string[] = [];
    for (const entry of readdirSync(join(ROOT, "test"), { recursive: true, encoding: "utf8" })) {
      if (!/\.(ts|mts|mjs)$/.test(entry) || entry.endsWith("test-waits.test.ts")) continue;
      for (const w of untimedWaits(readFileSync(join(ROOT, "test", entry), "utf8")))
        untimed.push(`test/${entry}:${w}`);
    }
    expect(untimed).toEqual([]);
  });
});
