import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";
import { type RecordingServer, recordingServer } from "../helpers/recording-server.js";

/**
 * JSON given to the CLI that names a member twice in one object is refused before anything is
 * sent, as the coordinator refuses such a body (400 ERR_DUPLICATE_KEY). JSON.parse keeps the
 * last of `{"a":1,"a":2}`: the CLI used to send `{"a":2}` silently, which the user never wrote
 * as such (another parser of the same text keeps the first).
 */

let coordinator: RecordingServer;

beforeAll(async () => {
  // A coordinator stand-in that records every request: none may reach it.
  coordinator = await recordingServer({
    status: 202,
    contentType: "application/json",
    body: JSON.stringify({ tasks: [{ task_id: "t", task_type: "echo", status: "pending" }] }),
  });
});

afterAll(() => coordinator.close());

const env = { TRIAD_LOG_LEVEL: "warn" };

describe("triad: JSON with a duplicate key", () => {
  it.each([
    [
      "submit --payload",
      ["submit", "--type", "echo", "--payload", '{"a":1,"a":2}'],
      2,
      "--payload names a more",
    ],
    [
      "input --value",
      ["input", "--task", "t1", "--value", '{"b":{"c":1,"c":2}}'],
      2,
      "--value names b.c more",
    ],
    [
      "schedule add --task",
      [
        "schedule",
        "add",
        "--id",
        "s1",
        "--every",
        "5000",
        "--type",
        "echo",
        "--task",
        '{"priority":1,"priority":9}',
      ],
      2,
      "--task names priority more",
    ],
  ])("%s: refused with ERR_DUPLICATE_KEY, a usage error, nothing sent", async (_name, args, code, says) => {
    coordinator.requests.length = 0;
    const r = await runTriad([...(args as string[]), "--coordinator", coordinator.url], {
      env,
      timeoutMs: 30_000,
    });
    expect(r.stderr).toContain(says);
    expect(r.stderr).toContain("[ERR_DUPLICATE_KEY]");
    expect(r.code).toBe(code);
    expect(coordinator.requests).toEqual([]);
  });

  it("submit --file: a JSON array or a JSON line naming a key twice is bad data (exit 1), nothing sent", async () => {
    for (const [input, says] of [
      ['[{"task_type":"echo","task_type":"compute"}]', "stdin names [0].task_type more"],
      [
        '{"task_type":"echo"}\n{"task_type":"echo","payload":{"x":1,"x":2}}\n',
        "stdin line 2 names payload.x more",
      ],
    ] as const) {
      coordinator.requests.length = 0;
      const r = await runTriad(["submit", "--file", "-", "--coordinator", coordinator.url], {
        env,
        input,
        timeoutMs: 30_000,
      });
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain("[ERR_DUPLICATE_KEY]");
      expect(r.code).toBe(1);
      expect(coordinator.requests).toEqual([]);
    }
  });

  it("a --config file naming an option twice: a usage error, nothing sent", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triad-dup-config-"));
    try {
      const config = join(dir, "config.json");
      writeFileSync(config, JSON.stringify({ type: "echo" }).replace("}", ',"type":"compute"}'));
      coordinator.requests.length = 0;
      const r = await runTriad(["submit", "--config", config, "--coordinator", coordinator.url], {
        env,
        timeoutMs: 30_000,
      });
      expect(r.stderr).toContain(`config file ${config} names type more`);
      expect(r.stderr).toContain("[ERR_DUPLICATE_KEY]");
      expect(r.code).toBe(2);
      expect(coordinator.requests).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the same JSON with distinct keys is sent", async () => {
    coordinator.requests.length = 0;
    const r = await runTriad(
      ["submit", "--type", "echo", "--payload", '{"a":1,"b":{"a":2}}', "--coordinator", coordinator.url],
      {
        env,
        timeoutMs: 30_000,
      },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(coordinator.requests).toEqual(["POST /tasks"]);
  });
});
