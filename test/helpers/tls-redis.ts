import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { freePort } from "./free-port.js";
import { RedisServer } from "./redis-server.js";

/** Paths of a throwaway PKI: a CA, a server certificate for "localhost" only, a client certificate, and a CA nobody uses. */
export type TestPki = {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it is trusting the wrong authority. */
  otherCa: string;
  remove(): void;
};

/**
 * Makes the PKI with openssl in a temp dir. The server certificate names DNS:localhost and no IP,
 * so "localhost" verifies and "127.0.0.1" is a host name mismatch. Throws, never skips, when
 * openssl is missing (.ci/run installs it).
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "triad-pki-"));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const selfSigned = (name: string, cn: string) =>
    ssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
    );
  const signed = (name: string, cn: string, ext: string) => {
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    );
    writeFileSync(at(`${name}.ext`), ext);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    );
  };
  try {
    selfSigned("ca", "Triad test CA");
    selfSigned("other-ca", "Some other CA");
    signed("server", "localhost", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
    signed("client", "triad-test-client", "extendedKeyUsage=clientAuth\n");
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `openssl could not make the test certificates (is it installed?): ${(err as Error).message}`,
    );
  }
  return {
    dir,
    ca: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    otherCa: at("other-ca.crt"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A redis-server of the test's own with a TLS port beside its plain one (the plain one for
 * readiness and for CONFIG SET from the test), a password, and client certificates optional
 * until the test asks for mutual TLS.
 */
export class TlsRedis {
  private constructor(
    readonly server: RedisServer,
    readonly tlsPort: number,
    readonly password: string,
  ) {}

  /** `cluster`: a one-node Redis Cluster holding every slot, its cluster bus and replies on TLS. */
  static async start(pki: TestPki, password: string, options: { cluster?: boolean } = {}): Promise<TlsRedis> {
    const tlsPort = await freePort();
    const server = await RedisServer.start({
      extraArgs: [
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        pki.serverCert,
        "--tls-key-file",
        pki.serverKey,
        "--tls-ca-cert-file",
        pki.ca,
        "--tls-auth-clients",
        "optional",
        ...(options.cluster
          ? ["--cluster-enabled", "yes", "--tls-cluster", "yes", "--cluster-config-file", "nodes.conf"]
          : []),
      ],
    });
    const redis = new TlsRedis(server, tlsPort, password);
    if (options.cluster) await redis.takeEverySlot();
    await redis.configSet("requirepass", password, "");
    return redis;
  }

  private async takeEverySlot(): Promise<void> {
    const client = createClient({ url: `redis://127.0.0.1:${this.server.port}` });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.sendCommand(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
      const deadline = performance.now() + 10_000;
      while (!String(await client.sendCommand(["CLUSTER", "INFO"])).includes("cluster_state:ok")) {
        if (performance.now() > deadline)
          throw new Error("the one-node TLS cluster did not reach cluster_state:ok");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      client.destroy();
    }
  }

  /** rediss://:password@host:tlsPort */
  url(options: { password?: string | null; host?: string } = {}): string {
    const password = options.password === undefined ? this.password : options.password;
    return `rediss://${password === null ? "" : `:${encodeURIComponent(password)}@`}${options.host ?? "localhost"}:${this.tlsPort}`;
  }

  /** redis://:password@127.0.0.1:plainPort */
  plainUrl(password: string | null = this.password): string {
    return `redis://${password === null ? "" : `:${encodeURIComponent(password)}@`}127.0.0.1:${this.server.port}`;
  }

  /** Mutual TLS on (clients must present a certificate the CA signed) or back to optional. */
  requireClientCertificates(on: boolean): Promise<void> {
    return this.configSet("tls-auth-clients", on ? "yes" : "optional", this.password);
  }

  private async configSet(name: string, value: string, password: string): Promise<void> {
    const client = createClient({
      url: `redis://127.0.0.1:${this.server.port}`,
      ...(password ? { password } : {}),
    });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.configSet(name, value);
    } finally {
      client.destroy();
    }
  }

  destroy(): Promise<void> {
    return this.server.destroy();
  }
}
