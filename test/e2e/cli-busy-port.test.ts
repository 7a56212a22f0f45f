import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad, TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * A tier process that cannot serve its port says why (with the error's code) and exits 1, having
 * released what it took (its Redis connections), so that a supervisor restarts it: it does not
 * stay up serving nothing. `triad up --keep` is there to serve the dashboard and API: without
 * its port it fails the same way; without --keep a busy port only costs the API.
 */

const env = {
  TRIAD_SECRET: "busy-port-secret-0123456789",
  TRIAD_LOG_LEVEL: "warn",
  TRIAD_LOG_FORMAT: "json",
};

describe("a port already in use", () => {
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let busy: Server;
  let port = 0;
  let url = "";
  const procs: TriadProcess[] = [];

  beforeAll(async () => {
    redis = await testRedis();
    // Holds the port, and answers GET /a2a as the peer the distributor and the worker look for first.
    busy = createServer((req, res) => {
      if (req.url === "/a2a") res.end(JSON.stringify({ agent_id: "peer", protocol: "triad-a2a" }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    port = (busy.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) await p.kill();
    busy.closeAllConnections();
    await new Promise((resolve) => busy.close(resolve));
    await redis.close();
  });

  /** Runs `triad ...args` until it ends by itself (a process left serving nothing fails the test). */
  const ends = async (args: string[]) => {
    const p = new TriadProcess(args, env);
    procs.push(p);
    const { code, signal } = await p.exit(20_000);
    return { code, signal, output: p.output };
  };

  it.each([
    ["coordinator", () => ["coordinator", "--id", "c-busy", "--redis", redis.url]],
    ["distributor", () => ["distributor", "--id", "d-busy", "--coordinator", url, "--redis", redis.url]],
    ["worker", () => ["worker", "--id", "w-busy", "--distributor", url]],
  ])(
    "triad %s says why in one line, with the error's code, and exits 1",
    async (_tier, args) => {
      const { code, signal, output } = await ends([...args(), "--port", String(port)]);
      expect(signal).toBeNull();
      expect(code).toBe(1);
      expect(output).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(output).toMatch(/EADDRINUSE.*\[ERR_A2A_LISTEN\]/);
      // Said once, in main's one line: not first as an error record with its stack.
      expect(output.match(/cannot listen on/g)).toHaveLength(1);
      expect(output).not.toContain("stack");
      expect(output).not.toMatch(/^ready /m);
    },
    30_000,
  );

  it("triad up --keep fails (exit 1) naming the port, before running the workload", async () => {
    const r = await runTriad(["up", "--tasks", "5", "--keep", "--port", String(port)], {
      env,
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `triad up: --keep: cannot serve the dashboard and API: cannot listen on 127.0.0.1:${port}`,
    );
    expect(r.stderr).toContain("[ERR_LISTEN]");
    expect(r.stdout).not.toContain("Summary");
    expect(r.stdout).not.toContain("serving at");
  }, 40_000);

  it("triad up without --keep warns and runs the workload without the API (exit 0)", async () => {
    const r = await runTriad(["up", "--tasks", "5", "--port", String(port)], { env, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no HTTP API this run");
    expect(r.stdout).toMatch(/completed\s+5/);
  }, 40_000);
});
