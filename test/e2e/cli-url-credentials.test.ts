import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";
import { type RecordingServer, recordingServer } from "../helpers/recording-server.js";

/**
 * A peer URL holding a user name and password (--coordinator, TRIAD_COORDINATOR, --distributor,
 * --a2a-agent) is a usage error with its code, the password never echoed. fetch refuses such a
 * URL at every request: the CLI said it could not reach the coordinator, printing the URL with
 * its password twice.
 */

const password = "pw-never-printed-4711";
let peer: RecordingServer;

beforeAll(async () => {
  peer = await recordingServer({
    status: 200,
    contentType: "application/json",
    body: JSON.stringify({ agents: [] }),
  });
});

afterAll(() => peer.close());

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
      peer.requests.length = 0;
      const withPort = (s: string) => s.replaceAll("PORT", String(peer.port));
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
      expect(peer.requests).toEqual([]);
    },
  );

  it("the same URL without them is used", async () => {
    peer.requests.length = 0;
    const r = await runTriad(["status", "--coordinator", peer.url, "--json"], {
      env,
      timeoutMs: 30_000,
    });
    expect(r.stderr).not.toContain("ERR_URL_CREDENTIALS");
    expect(peer.requests.length).toBeGreaterThan(0);
  });
});
