import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";
import { type RecordingServer, recordingServer } from "../helpers/recording-server.js";

/**
 * --task naming no possible task — empty, "." or ".." — is a usage error (ERR_INVALID_TASK_ID,
 * exit 2), nothing sent. Every URL parser drops dot segments: `cancel --task ..` went out as
 * POST /cancel ("no route"), and `status --task ..` as GET /, printing the dashboard's page as
 * the task with exit 0.
 */

let coordinator: RecordingServer;

beforeAll(async () => {
  // A coordinator stand-in that records every request and answers each as GET / is: a page.
  coordinator = await recordingServer({
    status: 200,
    contentType: "text/html",
    body: "<!doctype html><title>page</title>",
  });
});

afterAll(() => coordinator.close());

const env = { TRIAD_LOG_LEVEL: "warn" };

describe("triad status / cancel / input --task", () => {
  const commands: Array<[string, string[]]> = [
    ["status", ["status"]],
    ["status --follow", ["status", "--follow"]],
    ["cancel", ["cancel"]],
    ["input", ["input", "--value", '"yes"']],
  ];
  const cases = commands.flatMap(([name, args]) =>
    ["", ".", ".."].map((id) => [name, id, args] as [string, string, string[]]),
  );

  it.each(cases)("%s --task %j: exit 2, ERR_INVALID_TASK_ID, nothing sent", async (_name, id, args) => {
    coordinator.requests.length = 0;
    const r = await runTriad([...args, "--task", id, "--coordinator", coordinator.url], {
      env,
      timeoutMs: 30_000,
    });
    expect(r.stderr).toContain("[ERR_INVALID_TASK_ID]");
    expect(r.stdout).not.toContain("<!doctype html>");
    expect(r.code).toBe(2);
    expect(coordinator.requests).toEqual([]);
  });
});
