import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad, START_UP_MS, TriadProcess } from "../helpers/processes.js";
import { makeTestPki, type TestPki, TlsRedis } from "../helpers/tls-redis.js";

/**
 * The CLI on a managed-style Redis (TLS with a private CA, a password, then mutual TLS): the
 * CA and client certificate come from --redis-ca / --redis-cert / --redis-key or
 * TRIAD_REDIS_CA…; a store it cannot reach ends the command with exit 1 and a line that names
 * the cause and the fix, never the password.
 */

const PASSWORD = "cli-tls-pw";
const env = { TRIAD_SECRET: "e2e-redis-tls-secret", TRIAD_LOG_LEVEL: "warn" };
let pki: TestPki;
let redis: TlsRedis;

beforeAll(async () => {
  pki = makeTestPki();
  redis = await TlsRedis.start(pki, PASSWORD);
}, 30_000);

afterAll(async () => {
  await redis?.destroy();
  pki?.remove();
});

describe("triad on a TLS Redis", () => {
  it("a coordinator without the CA exits 1 saying the certificate is not trusted and to pass --redis-ca FILE", async () => {
    const r = await runTriad(
      ["coordinator", "--id", "c1", "--redis", redis.url(), "--port", String(await freePort())],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /triad coordinator: coordinator c1 cannot reach its store at rediss:\/\/:\*\*\*@localhost:\d+: the server's TLS certificate is not trusted/,
    );
    expect(r.stderr).toMatch(/\[ERR_STORE_TLS_UNTRUSTED\]\. Fix: pass --redis-ca FILE/);
    expect(r.stderr).toMatch(/\[ERR_STORE_UNAVAILABLE\]\n$/);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it("a coordinator given the CA through TRIAD_REDIS_CA starts", async () => {
    const p = new TriadProcess(
      ["coordinator", "--id", "c2", "--redis", redis.url(), "--port", String(await freePort())],
      { ...env, TRIAD_REDIS_CA: pki.ca },
    );
    try {
      await p.waitFor(/ready coordinator c2 http:\/\//, START_UP_MS);
      expect(p.running).toBe(true);
      expect(p.output).not.toMatch(/ERR_STORE/);
    } finally {
      await p.kill();
    }
  });

  it("triad up with a wrong password exits 1 with the auth cause, without printing it", async () => {
    const r = await runTriad(
      [
        "up",
        "--redis",
        redis.url({ password: "wrong-pw" }),
        "--redis-ca",
        pki.ca,
        "--tasks",
        "0",
        "--port",
        "0",
      ],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cannot reach its store .*\(WRONGPASS.*\[ERR_STORE_AUTH\]\. Fix: put the right password/,
    );
    expect(r.stderr + r.stdout).not.toContain("wrong-pw");
  });

  it("triad up runs its workload through the TLS Redis with --redis-ca", async () => {
    const r = await runTriad(
      ["up", "--redis", redis.url(), "--redis-ca", pki.ca, "--tasks", "30", "--port", "0"],
      {
        env,
        timeoutMs: 90_000,
      },
    );
    expect(r.stderr).not.toMatch(/ERR_/);
    expect(r.stdout).toMatch(/completed\s+30\b/);
    expect(r.code).toBe(0);
  }, 100_000);

  it("a missing --redis-ca file is a usage error naming the file", async () => {
    const r = await runTriad(["keys", "list", "--redis", redis.url(), "--redis-ca", "/nonexistent/ca.pem"], {
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read --redis-ca \/nonexistent\/ca\.pem: ENOENT/);
  });

  it("with mutual TLS: keys list needs --redis-cert and --redis-key, and works with them", async () => {
    await redis.requireClientCertificates(true);
    try {
      const without = await runTriad(["keys", "list", "--redis", redis.url(), "--redis-ca", pki.ca], { env });
      expect(without.code).toBe(1);
      // The alert itself or, when TLS 1.3's hang-up hid it on every attempt, the reset: both name the flags.
      expect(without.stderr).toMatch(
        /\[ERR_STORE_(TLS_CLIENT_CERT|RESET)\]\. Fix: .*--redis-cert FILE --redis-key FILE/,
      );
      const withCert = await runTriad(["keys", "list", "--redis", redis.url(), "--json"], {
        env: {
          ...env,
          TRIAD_REDIS_CA: pki.ca,
          TRIAD_REDIS_CERT: pki.clientCert,
          TRIAD_REDIS_KEY: pki.clientKey,
        },
      });
      expect(withCert.stderr).toBe("");
      expect(withCert.code).toBe(0);
      expect(JSON.parse(withCert.stdout)).toEqual({});
    } finally {
      await redis.requireClientCertificates(false);
    }
  });
});
