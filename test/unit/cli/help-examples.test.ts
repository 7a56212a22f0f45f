import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";

/**
 * Every examples/ path that `triad <command> --help` names exists in the repository: the help is
 * where a new user looks first, and a renamed example must not leave it pointing nowhere.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** What `triad ...args` writes to stdout, and its exit code. */
async function run(args: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const code = await main(args);
    return { code, out: chunks.join("") };
  } finally {
    write.mockRestore();
  }
}

/** The commands `triad --help` lists (those of `keys` and `schedule` are two words). */
async function commands(): Promise<string[]> {
  const { out } = await run(["--help"]);
  const listed = out.split("commands:\n")[1]?.split("\n\n")[0] ?? "";
  return listed
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[0])
    .map((words) => words.slice(0, words[0] === "keys" || words[0] === "schedule" ? 2 : 1).join(" "));
}

/** examples/... paths in a text, without the punctuation of the sentence around them. */
function examplePaths(text: string): string[] {
  return [...text.matchAll(/examples\/[\w./-]*/g)].map((m) => m[0].replace(/[.]+$/, ""));
}

describe("triad <command> --help", () => {
  it("names only examples/ paths that exist", async () => {
    const names = await commands();
    expect(names).toContain("worker");
    expect(names).toContain("keys list");
    expect(names).toContain("schedule add");
    const named: string[] = [];
    for (const name of names) {
      const { code, out } = await run([...name.split(" "), "--help"]);
      expect(code, `triad ${name} --help`).toBe(0);
      for (const path of examplePaths(out)) {
        named.push(path);
        expect(existsSync(join(ROOT, path)), `triad ${name} --help names ${path}`).toBe(true);
      }
    }
    // The worker's help points to a handlers module and an A2A agent example at least.
    expect(named.length).toBeGreaterThanOrEqual(2);
  });

  it("the path finder strips a sentence's full stop and keeps directories", () => {
    expect(examplePaths("see examples/handlers.mjs. And examples/a2a-agent/)")).toEqual([
      "examples/handlers.mjs",
      "examples/a2a-agent/",
    ]);
  });
});
