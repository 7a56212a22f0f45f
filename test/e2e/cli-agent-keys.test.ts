import { mkdtempSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, startSideBySide, type TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * Per-agent keys as an operator sets them up (issue 21, item 9): `triad keys generate` for each
 * agent, each tier its own process started with its own key and no shared secret, the workers
 * with the public keys in a file. Tasks run; an agent whose key is not the registered one does
 * not start; every process shuts down cleanly (the key registry's store connection closes).
 */

const dir = mkdtempSync(join(tmpdir(), "triad-e2e-keys-"));
const base = { TRIAD_SECRET: "", TRIAD_LOG_LEVEL: "warn" };

describe("triad with per-agent keys, each tier its own process", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";
  let distributorUrl = "";

  const keyFile = (id: string) => join(dir, `${id}.key`);

  beforeAll(async () => {
    redis = await testRedis();
    for (const [id, role] of [
      ["c1", "coordinator"],
      ["d1", "distributor"],
      ["w1", "worker"],
      ["w2", "worker"],
    ] as const) {
      const r = await runTriad([
        "keys",
        "generate",
        "--agent",
        id,
        "--role",
        role,
        "--redis",
        redis.url,
        "--out",
        keyFile(id),
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const listed = await runTriad(["keys", "list", "--redis", redis.url, "--json"]);
    await writeFile(join(dir, "public-keys.json"), listed.stdout);
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    // Side by side, each given its upstream's address before that one listens (an agent waits
    // for its upstream): the set-up needs one start-up's bound, not three.
    const [c, d] = await startSideBySide(
      [
        {
          args: ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
          env: { TRIAD_AGENT_KEY_FILE: keyFile("c1") },
        },
        {
          args: [
            ...["distributor", "--id", "d1", "--coordinator", `http://127.0.0.1:${cp}`],
            ...["--redis", redis.url, "--port", String(dp)],
          ],
          env: { TRIAD_AGENT_KEY_FILE: keyFile("d1") },
        },
        {
          args: ["worker", "--id", "w1", "--distributor", `http://127.0.0.1:${dp}`, "--port", String(wp)],
          env: { TRIAD_AGENT_KEY_FILE: keyFile("w1"), TRIAD_PUBLIC_KEYS_FILE: join(dir, "public-keys.json") },
        },
      ],
      { env: base, into: procs },
    );
    coordinatorUrl = c.url;
    distributorUrl = d.url;
  }, 90_000);

  afterAll(async () => {
    for (const p of procs) await p.kill();
    await redis?.close();
  });

  it("runs tasks signed with each agent's own key, with no shared secret", async () => {
    const r = await runTriad(
      [
        "submit",
        "--coordinator",
        coordinatorUrl,
        "--type",
        "compute",
        "--payload",
        '{"operation":"sum","values":[1,2,3]}',
        "--count",
        "3",
        "--wait",
      ],
      { env: base },
    );
    expect(r.code, r.stderr).toBe(0);
    const tasks = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { status: string; result: unknown });
    expect(tasks.map((t) => t.status)).toEqual(["completed", "completed", "completed"]);
    expect(tasks[0]!.result).toEqual({ result: 6 });
  }, 30_000);

  it("refuses to start an agent whose key is not the one registered for it", async () => {
    const port = await freePort();
    const r = await runTriad(
      ["worker", "--id", "w1", "--distributor", distributorUrl, "--port", String(port)],
      {
        env: {
          ...base,
          TRIAD_AGENT_KEY_FILE: keyFile("w2"),
          TRIAD_PUBLIC_KEYS_FILE: join(dir, "public-keys.json"),
        },
        timeoutMs: 20_000,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not the one registered for w1");
  }, 30_000);

  it("shuts every tier down cleanly on SIGTERM", async () => {
    for (const p of [...procs].reverse()) {
      p.signal("SIGTERM");
      expect((await p.exit(20_000)).code).toBe(0);
    }
  }, 60_000);
});
