import { createPrivateKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { TriadError } from "../errors.js";

/**
 * TLS material for a rediss:// store, PEM text or bytes, as managed Redis services hand it out:
 * `ca`, the certificate(s) of the authority that signed the server's certificate (needed when
 * Node.js does not trust that authority already: a private CA, a self-signed server); `cert` and
 * `key`, this client's own certificate and private key, for a server that wants mutual TLS.
 */
export type RedisTlsOptions = {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
};

/** What each piece is called where the user gave it: "redis.tls.ca" in code, "--redis-ca FILE" on the CLI. */
export type RedisTlsNames = Record<keyof RedisTlsOptions, string>;

const CONFIG_NAMES: RedisTlsNames = { ca: "redis.tls.ca", cert: "redis.tls.cert", key: "redis.tls.key" };
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The TLS material checked once, at the edge: every certificate parses, a key comes with its
 * certificate and matches it. A mistake here would otherwise surface only at connect time, as a
 * handshake failure far from the file that caused it.
 */
export function checkRedisTls(tls: RedisTlsOptions, names: RedisTlsNames = CONFIG_NAMES): RedisTlsOptions {
  if (typeof tls !== "object" || tls === null) {
    throw new TriadError("ERR_INVALID_CONFIG", "redis.tls must be an object { ca?, cert?, key? }");
  }
  const out: RedisTlsOptions = {};
  for (const field of ["ca", "cert", "key"] as const) {
    const value = tls[field];
    if (value === undefined) continue;
    if (typeof value !== "string" && !Buffer.isBuffer(value)) {
      throw new TriadError("ERR_INVALID_CONFIG", `${names[field]} must be PEM text (a string or a Buffer)`);
    }
    out[field] = value;
  }
  if (out.ca !== undefined) checkCertificates(out.ca, names.ca);
  if (out.cert !== undefined) checkCertificates(out.cert, names.cert);
  if ((out.cert === undefined) !== (out.key === undefined)) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${out.cert === undefined ? names.key : names.cert} needs ${out.cert === undefined ? names.cert : names.key} too: a client certificate and its private key go together`,
    );
  }
  if (out.key !== undefined) {
    try {
      createPrivateKey(out.key);
    } catch (err) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${names.key} is not a PEM private key (${(err as Error).message})`,
      );
    }
    try {
      createSecureContext({ cert: out.cert, key: out.key });
    } catch (err) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${names.key} is not the key of ${names.cert} (${(err as Error).message})`,
      );
    }
  }
  return out;
}

function checkCertificates(pem: string | Buffer, name: string): void {
  const blocks = pem.toString("utf8").match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${name} holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)`,
    );
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${name} has a certificate that does not parse (${(err as Error).message})`,
      );
    }
  }
}
