import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent } from "../../../src/agents/index.js";
import { isTriadError } from "../../../src/core/errors.js";
import type { RedisConfig } from "../../../src/core/store/config.js";
import { RedisClient } from "../../../src/core/store/index.js";
import { freePort } from "../../helpers/free-port.js";
import { RedisServer } from "../../helpers/redis-server.js";
import { makeTestPki, type TestPki, TlsRedis } from "../../helpers/tls-redis.js";

/**
 * A store connection that fails says why and what to do: against a TLS redis-server of the
 * test's own (a throwaway CA, a password, optional then required client certificates), each
 * cause — untrusted certificate, wrong host name, wrong or missing password, nothing listening,
 * an unknown host, no answer — has its own code in `connectFailure` and in the message.
 */

const PASSWORD = "s3cret-pw";
let pki: TestPki;
let redis: TlsRedis;
let ca: Buffer;

beforeAll(async () => {
  pki = makeTestPki();
  ca = readFileSync(pki.ca);
  redis = await TlsRedis.start(pki, PASSWORD);
}, 30_000);

afterAll(async () => {
  await redis?.destroy();
  pki?.remove();
});

/** Connects with `config`; on failure gives the cause and the message an agent would throw. */
async function attempt(config: RedisConfig) {
  const client = new RedisClient({ connectTimeoutMs: 1000, ...config });
  const ok = await client.connect();
  const failure = client.connectFailure;
  const error = ok ? undefined : client.unreachable("coordinator c1");
  if (ok) {
    await client.set("tls-check", { ok: true });
    expect(await client.get("tls-check")).toEqual({ ok: true });
  }
  await client.disconnect();
  return { ok, failure, error, message: error?.message ?? "" };
}

describe("a TLS Redis with a password", () => {
  it("works with the CA that signed its certificate and the right password", async () => {
    const r = await attempt({ url: redis.url(), tls: { ca } });
    expect(r).toMatchObject({ ok: true, failure: undefined });
  });

  it("without the CA: the certificate is not trusted, and the fix is --redis-ca FILE", async () => {
    const r = await attempt({ url: redis.url() });
    expect(r.ok).toBe(false);
    expect(r.failure?.cause).toBe("ERR_STORE_TLS_UNTRUSTED");
    expect(r.error?.code).toBe("ERR_STORE_UNAVAILABLE");
    expect(r.error?.details).toMatchObject({ cause: "ERR_STORE_TLS_UNTRUSTED" });
    expect(r.message).toMatch(/coordinator c1 cannot reach its store at rediss:\/\/:\*\*\*@localhost:\d+/);
    expect(r.message).toMatch(/certificate is not trusted/);
    expect(r.message).toMatch(/pass --redis-ca FILE/);
    expect(r.message).not.toContain(PASSWORD);
  });

  it("with another CA than the one that signed it: not trusted, and the CA given is named as the culprit", async () => {
    const r = await attempt({ url: redis.url(), tls: { ca: readFileSync(pki.otherCa) } });
    expect(r.failure?.cause).toBe("ERR_STORE_TLS_UNTRUSTED");
    expect(r.failure?.fix).toMatch(/the CA file given did not sign/);
  });

  it("by an address its certificate does not name: a host name mismatch", async () => {
    const r = await attempt({ url: redis.url({ host: "127.0.0.1" }), tls: { ca } });
    expect(r.failure?.cause).toBe("ERR_STORE_TLS_HOSTNAME");
    expect(r.message).toMatch(/other host names/);
  });

  it("a wrong password: the auth cause, and the password is never printed", async () => {
    const r = await attempt({ url: redis.url({ password: "not-the-password" }), tls: { ca } });
    expect(r.failure?.cause).toBe("ERR_STORE_AUTH");
    expect(r.message).toMatch(/refused the user name or password \(WRONGPASS/);
    expect(r.message).not.toContain("not-the-password");
  });

  it("no password: NOAUTH, and the fix puts one in the URL", async () => {
    const r = await attempt({ url: redis.url({ password: null }), tls: { ca } });
    expect(r.failure?.cause).toBe("ERR_STORE_AUTH");
    expect(r.failure?.reason).toMatch(/wants a password and none was given/);
    expect(r.failure?.fix).toMatch(/rediss:\/\/:PASSWORD@host:port/);
  });

  it("redis:// to its TLS port: the server hangs up, and the fix is rediss://", async () => {
    const r = await attempt({ url: `redis://:${PASSWORD}@127.0.0.1:${redis.tlsPort}` });
    expect(r.failure?.cause).toBe("ERR_STORE_RESET");
    expect(r.failure?.fix).toMatch(/use rediss:\/\//);
  });

  it("with mutual TLS: refused without a client certificate, served with one", async () => {
    await redis.requireClientCertificates(true);
    try {
      const without = await attempt({ url: redis.url(), tls: { ca } });
      // Under TLS 1.3 the server's "certificate required" alert can be lost behind its hang-up
      // on every attempt (a loaded machine); the fix names the client certificate either way.
      expect(["ERR_STORE_TLS_CLIENT_CERT", "ERR_STORE_RESET"]).toContain(without.failure?.cause);
      expect(without.message).toMatch(/--redis-cert FILE --redis-key FILE/);
      const withCert = await attempt({
        url: redis.url(),
        tls: { ca, cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
      });
      expect(withCert).toMatchObject({ ok: true, failure: undefined });
    } finally {
      await redis.requireClientCertificates(false);
    }
  });

  it("a coordinator that cannot connect throws ERR_STORE_UNAVAILABLE with the cause", async () => {
    const coordinator = new CoordinatorAgent({
      agentId: "c-tls",
      redis: { url: redis.url({ password: "wrong" }), tls: { ca }, connectTimeoutMs: 1000 },
      a2a: { agentId: "c-tls", tokenSecret: "s", router: null },
    });
    const err = await coordinator.initialize().catch((e: unknown) => e);
    await coordinator.cleanup().catch(() => {});
    expect(isTriadError(err, "ERR_STORE_UNAVAILABLE")).toBe(true);
    expect((err as Error).message).toMatch(
      /^coordinator c-tls cannot reach its store at .*\[ERR_STORE_AUTH\]/,
    );
  });

  it("Redis Cluster URLs get the same causes (rediss+cluster:// without the CA)", async () => {
    const r = await attempt({ url: `rediss+cluster://:${PASSWORD}@localhost:${redis.tlsPort}` });
    expect(r.failure?.cause).toBe("ERR_STORE_TLS_UNTRUSTED");
    expect(r.message).not.toContain(PASSWORD);
    const auth = await attempt({
      url: `rediss+cluster://:wrong@localhost:${redis.tlsPort}`,
      tls: { ca },
    });
    expect(auth.failure?.cause).toBe("ERR_STORE_AUTH");
  });
});

describe("a one-node Redis Cluster on TLS", () => {
  let cluster: TlsRedis;
  beforeAll(async () => {
    cluster = await TlsRedis.start(pki, PASSWORD, { cluster: true });
  }, 30_000);
  afterAll(() => cluster?.destroy());

  it("works through rediss+cluster:// with the CA: the nodes it discovers get the same TLS material", async () => {
    const url = `rediss+cluster://:${PASSWORD}@localhost:${cluster.tlsPort}`;
    const r = await attempt({ url, tls: { ca } });
    expect(r).toMatchObject({ ok: true, failure: undefined });
    const client = new RedisClient({ url, tls: { ca } });
    expect(await client.connect()).toBe(true);
    expect(client.engine.kind).toBe("cluster");
    await client.disconnect();
  });

  it("says why it cannot connect, as on one Redis", async () => {
    const r = await attempt({ url: `rediss+cluster://:wrong@localhost:${cluster.tlsPort}`, tls: { ca } });
    expect(r.failure?.cause).toBe("ERR_STORE_AUTH");
  });
});

describe("the network on the way", () => {
  it("nothing listening: connection refused", async () => {
    const r = await attempt({ url: `redis://127.0.0.1:${await freePort()}` });
    expect(r.failure?.cause).toBe("ERR_STORE_REFUSED");
    expect(r.message).toMatch(/nothing listens at that host and port/);
  });

  it("a host name that does not resolve: DNS", async () => {
    const r = await attempt({ url: `rediss://:${PASSWORD}@no-such-host.invalid:6380`, tls: { ca } });
    expect(r.failure?.cause).toBe("ERR_STORE_DNS");
    expect(r.message).toMatch(/host name was not found \(getaddrinfo (ENOTFOUND|EAI_AGAIN)/);
  });

  it("rediss:// to a plain Redis port: not TLS (its connect times out, and a PING without TLS is answered)", async () => {
    // Redis 7 reads the TLS hello as an inline command and waits for its newline: no TLS error.
    const plain = await RedisServer.start();
    try {
      const r = await attempt({
        url: `rediss://localhost:${plain.port}`,
        tls: { ca },
        connectTimeoutMs: 500,
      });
      expect(r.failure?.cause).toBe("ERR_STORE_TLS_NOT_TLS");
      expect(r.failure?.reason).toMatch(/does not speak TLS on this port.*a plain Redis answers there/);
      expect(r.failure?.fix).toMatch(/use redis:\/\//);
      expect(r.message).toContain("[ERR_STORE_TLS_NOT_TLS]");
    } finally {
      await plain.destroy();
    }
    // One with a password answers the PING with NOAUTH: Redis all the same.
    const withPassword = await attempt({
      url: `rediss://:${PASSWORD}@localhost:${redis.server.port}`,
      tls: { ca },
      connectTimeoutMs: 500,
    });
    expect(withPassword.failure?.cause).toBe("ERR_STORE_TLS_NOT_TLS");
  });

  it("a port that takes the connection and never answers: a timeout", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    try {
      const r = await attempt({ url: `rediss://localhost:${port}`, tls: { ca }, connectTimeoutMs: 300 });
      expect(r.failure?.cause).toBe("ERR_STORE_CONNECT_TIMEOUT");
      expect(r.failure?.reason).toMatch(/no answer within 300 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
