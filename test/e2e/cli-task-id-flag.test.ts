import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";
import { type RecordingServer, recordingServer } from "../helpers/recording-server.js";

/**
 * --task naming no possible task — empty, "." or "..", or longer than a task id — is a usage error (ERR_INVALID_TASK_ID,
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
    ["", ".", "..", "L".repeat(201)].map(
      (id) =>
        [name, id.length > 10 ? `(${id.length} characters)` : JSON.stringify(id), id, args] as [
          string,
          string,
          string,
          string[],
        ],
    ),
  );

  it.each(cases)(
    "%s --task %s: exit 2, ERR_INVALID_TASK_ID, nothing sent",
    async (_name, _shown, id, args) => {
      coordinator.requests.length = 0;
      const r = await runTriad([...args, "--task", id, "--coordinator", coordinator.url], {
        env,
        timeoutMs: 30_000,
      });
      expect(r.stderr).toContain("[ERR_INVALID_TASK_ID]");
      // An id too long to be a task's is named by its length, not written out.
      expect(r.stderr).not.toContain("L".repeat(100));
      expect(r.stdout).not.toContain("<!doctype html>");
      expect(r.code).toBe(2);
      expect(coordinator.requests).toEqual([]);
    },
  );
});
