import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";

/**
 * A peer URL holding a user name and password (--coordinator, TRIAD_COORDINATOR, --distributor,
 * --a2a-agent) is a usage error with its code, the password never echoed. fetch refuses such a
 * URL at every request: the CLI said it could not reach the coordinator, printing the URL with
 * its password twice.
 */

const password = "pw-never-printed-4711";
let server: Server;
let port: number;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ agents: [] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const env = { TRIAD_LOG_LEVEL: "warn", TRIAD_SECRET: "url-credentials-secret-0123456789" };

describe("a peer URL with credentials", () => {
  it.each([
    [
      "status, --coordinator",
      ["status", "--coordinator", `http://bob:${password}@127.0.0.1:PORT`],
      {},
      "--coordinator",
    ],
    [
      "cancel, TRIAD_COORDINATOR",
      ["cancel", "--task", "t1"],
      { TRIAD_COORDINATOR: `http://bob:${password}@127.0.0.1:PORT` },
      "TRIAD_COORDINATOR",
    ],
    [
      "status, the second of a list",
      ["status", "--coordinator", `http://127.0.0.1:PORT,https://bob:${password}@127.0.0.1:PORT`],
      {},
      "--coordinator",
    ],
    [
      "worker --a2a-agent",
      [
        "worker",
        "--id",
        "w1",
        "--distributor",
        "http://127.0.0.1:PORT",
        "--port",
        "0",
        "--a2a-agent",
        `http://:${password}@127.0.0.1:PORT`,
      ],
      {},
      "--a2a-agent",
    ],
  ])(
    "%s: exit 2, ERR_URL_CREDENTIALS, the password not printed, nothing sent",
    async (_name, args, extraEnv, where) => {
      requests.length = 0;
      const withPort = (s: string) => s.replaceAll("PORT", String(port));
      const r = await runTriad((args as string[]).map(withPort), {
        env: {
          ...env,
          ...Object.fromEntries(Object.entries(extraEnv).map(([k, v]) => [k, withPort(v as string)])),
        },
        timeoutMs: 30_000,
      });
      expect(`${r.stdout}${r.stderr}`).not.toContain(password);
      expect(r.stderr).toContain(`${where} must not hold a user name or password`);
      expect(r.stderr).toContain(":***@127.0.0.1");
      expect(r.stderr).toContain("[ERR_URL_CREDENTIALS]");
      expect(r.code).toBe(2);
      expect(requests).toEqual([]);
    },
  );

  it("the same URL without them is used", async () => {
    requests.length = 0;
    const r = await runTriad(["status", "--coordinator", `http://127.0.0.1:${port}`, "--json"], {
      env,
      timeoutMs: 30_000,
    });
    expect(r.stderr).not.toContain("ERR_URL_CREDENTIALS");
    expect(requests.length).toBeGreaterThan(0);
  });
});
