import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveStoreTarget } from "../../../src/core/store/config.js";
import {
  diagnoseConnectFailure,
  diagnoseConnectFailures,
  storeUnreachable,
} from "../../../src/core/store/connect-failure.js";
import { makeTestPki, type TestPki } from "../../helpers/tls-redis.js";

/**
 * The causes a live server cannot easily show (an expired certificate, a route that does not
 * exist, a server that is not Redis) from the errors Node.js and node-redis give for them, and
 * the TLS material refused at the edge. The live causes are in test/integration/store/redis-tls.test.ts.
 */

const plain = { useTls: false, hasCa: false, hasClientCert: false, timeoutMs: 3000 };
const tls = { ...plain, useTls: true };
const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code });
/** What node-redis gives up with: its ReconnectStrategyError keeps the socket's error as originalError. */
const gaveUpWith = (err: Error) => Object.assign(new Error(err.message), { originalError: err });

describe("diagnoseConnectFailure", () => {
  it("an expired server certificate: renew it, or fix this machine's clock", () => {
    const d = diagnoseConnectFailure(
      gaveUpWith(nodeError("CERT_HAS_EXPIRED", "certificate has expired")),
      tls,
    );
    expect(d).toMatchObject({ cause: "ERR_STORE_TLS_EXPIRED", reason: expect.stringMatching(/validity/) });
    expect(d.fix).toMatch(/renew the server's certificate/);
  });

  it("rediss:// to a server without TLS", () => {
    const d = diagnoseConnectFailure(nodeError("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), tls);
    expect(d.cause).toBe("ERR_STORE_TLS_NOT_TLS");
    expect(d.fix).toMatch(/use redis:\/\//);
  });

  it("a client certificate the server does not trust", () => {
    const err = nodeError("ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "SSL routines::tlsv1 alert unknown ca");
    const d = diagnoseConnectFailure(err, { ...tls, hasCa: true, hasClientCert: true });
    expect(d.cause).toBe("ERR_STORE_TLS_CLIENT_CERT");
    expect(d.reason).toMatch(/refused this client's TLS certificate/);
  });

  it("no route to the host, and something that is not Redis", () => {
    expect(diagnoseConnectFailure(nodeError("EHOSTUNREACH", "connect EHOSTUNREACH"), plain).cause).toBe(
      "ERR_STORE_NETWORK",
    );
    expect(diagnoseConnectFailure(new Error('Unknown RESP type 72 "H"'), plain).cause).toBe(
      "ERR_STORE_NOT_REDIS",
    );
  });

  it("of several attempts' errors, the telling one wins over a reset that hid it", () => {
    const reset = nodeError("ECONNRESET", "write ECONNRESET");
    const alert = nodeError("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required");
    expect(diagnoseConnectFailures([reset, alert, reset], tls).cause).toBe("ERR_STORE_TLS_CLIENT_CERT");
    const onlyResets = diagnoseConnectFailures([reset, gaveUpWith(reset)], tls);
    expect(onlyResets.cause).toBe("ERR_STORE_RESET");
    expect(onlyResets.fix).toMatch(/if the server wants mutual TLS, pass --redis-cert FILE --redis-key FILE/);
  });

  it("anything else keeps the client's own words", () => {
    const d = diagnoseConnectFailure(new Error("ERR This instance has cluster support disabled"), plain);
    expect(d).toMatchObject({
      cause: "ERR_STORE_CONNECT",
      reason: expect.stringMatching(/cluster support disabled/),
    });
  });

  it("the agents' error: still ERR_STORE_UNAVAILABLE, with the cause in details and the fix in the message", () => {
    const failure = diagnoseConnectFailure(
      nodeError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:6379"),
      plain,
    );
    const err = storeUnreachable("distributor d1", "redis://:***@10.0.0.1:6379", failure);
    expect(err.code).toBe("ERR_STORE_UNAVAILABLE");
    expect(err.details).toEqual({ cause: "ERR_STORE_REFUSED", fix: failure.fix });
    expect(err.message).toBe(
      `distributor d1 cannot reach its store at redis://:***@10.0.0.1:6379: ${failure.reason} [ERR_STORE_REFUSED]. Fix: ${failure.fix}`,
    );
  });
});

describe("TLS material in the store config", () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki.remove());
  const read = (path: string) => readFileSync(path);

  it("is taken for rediss:// and rediss+cluster://, and turns TLS on for a host/port config", () => {
    const ca = read(pki.ca);
    expect(resolveStoreTarget({ url: "rediss://h:1", tls: { ca } })).toMatchObject({
      useTls: true,
      tls: { ca },
    });
    expect(resolveStoreTarget({ url: "rediss+cluster://h:1,h:2", tls: { ca } })).toMatchObject({
      kind: "cluster",
      tls: { ca },
    });
    expect(resolveStoreTarget({ host: "h", port: 1, tls: { ca } })).toMatchObject({
      url: "rediss://h:1",
      useTls: true,
    });
  });

  it("is refused for a plain redis:// URL, where it would be silently unused", () => {
    expect(() => resolveStoreTarget({ url: "redis://h:1", tls: { ca: read(pki.ca) } })).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringMatching(/use rediss:\/\//),
      }),
    );
  });

  it("refuses a CA that is not a PEM certificate, a certificate without its key, and a key of another certificate", () => {
    const bad = (tls: Parameters<typeof resolveStoreTarget>[0]["tls"], message: RegExp) =>
      expect(() => resolveStoreTarget({ url: "rediss://h:1", tls })).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_CONFIG", message: expect.stringMatching(message) }),
      );
    bad({ ca: "not a certificate" }, /redis\.tls\.ca holds no PEM certificate/);
    bad({ ca: read(pki.serverKey) }, /redis\.tls\.ca holds no PEM certificate/);
    bad({ cert: read(pki.clientCert) }, /redis\.tls\.cert needs redis\.tls\.key too/);
    bad({ key: read(pki.clientKey) }, /redis\.tls\.key needs redis\.tls\.cert too/);
    bad(
      { cert: read(pki.clientCert), key: read(pki.serverKey) },
      /redis\.tls\.key is not the key of redis\.tls\.cert/,
    );
    bad({ cert: read(pki.clientCert), key: "nope" }, /redis\.tls\.key is not a PEM private key/);
  });
});
