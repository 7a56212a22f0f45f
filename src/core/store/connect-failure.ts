import { connect as connectTcp } from "node:net";
import { TriadError } from "../errors.js";

/**
 * Why a connection to the store could not be made, one code per remedy: the user reads the
 * cause and the fix instead of a bare "cannot reach its store".
 */
export type StoreConnectCause =
  /** The server's certificate is signed by an authority this process does not trust (or self-signed). */
  | "ERR_STORE_TLS_UNTRUSTED"
  /** The server's certificate is valid, but for other names than the host connected to. */
  | "ERR_STORE_TLS_HOSTNAME"
  /** The server's certificate has expired, or is not valid yet. */
  | "ERR_STORE_TLS_EXPIRED"
  /** The server wants a client certificate (mutual TLS) and got none, or one it does not trust. */
  | "ERR_STORE_TLS_CLIENT_CERT"
  /** rediss:// to a server that does not speak TLS on that port. */
  | "ERR_STORE_TLS_NOT_TLS"
  /** Another TLS handshake failure. */
  | "ERR_STORE_TLS"
  /** WRONGPASS / NOAUTH: the password (or user) is wrong or missing. */
  | "ERR_STORE_AUTH"
  /** Nothing listens at that host and port. */
  | "ERR_STORE_REFUSED"
  /** The host name does not resolve. */
  | "ERR_STORE_DNS"
  /** No answer within the connect timeout. */
  | "ERR_STORE_CONNECT_TIMEOUT"
  /** The server closed the connection at once (often a TLS port reached with redis://). */
  | "ERR_STORE_RESET"
  /** The host or its network cannot be reached (no route). */
  | "ERR_STORE_NETWORK"
  /** Something answered that is not Redis. */
  | "ERR_STORE_NOT_REDIS"
  /** Anything else: the client's own error is the reason. */
  | "ERR_STORE_CONNECT";

export type StoreConnectFailure = {
  cause: StoreConnectCause;
  /** What went wrong, in words, with the underlying error's text. */
  reason: string;
  /** What to do about it. */
  fix: string;
};

/** What a failure diagnosis needs to know about the connection that failed. */
export type ConnectAttempt = {
  useTls: boolean;
  hasCa: boolean;
  hasClientCert: boolean;
  timeoutMs: number;
  /** The host and port connected to (a cluster's first root node), for probeNotTls. */
  address?: { host: string; port: number };
};

/** The ConnectAttempt of an engine's target (one Redis or a cluster). */
export function connectAttempt(target: {
  useTls: boolean;
  tls?: { ca?: unknown; cert?: unknown };
  connectTimeoutMs: number;
  url?: string;
  rootNodes?: string[];
}): ConnectAttempt {
  const address = addressOf(target.url ?? target.rootNodes?.[0]);
  return {
    useTls: target.useTls,
    hasCa: target.tls?.ca !== undefined,
    hasClientCert: target.tls?.cert !== undefined,
    timeoutMs: target.connectTimeoutMs,
    ...(address !== undefined ? { address } : {}),
  };
}

function addressOf(url: string | undefined): { host: string; port: number } | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
    return host === "" ? undefined : { host, port: u.port === "" ? 6379 : Number(u.port) };
  } catch {
    return undefined;
  }
}

/** The first reply line of a Redis to an inline PING: PONG, or a refusal only Redis words so. */
const REDIS_PING_REPLY = /^(\+PONG|-NOAUTH|-DENIED|-WRONGPASS|-ERR)\b/;

/**
 * Whether a plain (not TLS) Redis answers at `address`: an inline PING over TCP, its reply
 * awaited for up to `timeoutMs`. A Redis 7 plain port reached with rediss:// gives no TLS error:
 * it reads the TLS hello as an inline command, waits for a newline that never comes, and the
 * connect times out; this tells that case from a port that does not answer at all.
 */
export function answersPlainRedis(
  address: { host: string; port: number },
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    let got = "";
    const socket = connectTcp({ host: address.host, port: address.port });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("\r\n") || got.length > 256) done(REDIS_PING_REPLY.test(got));
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(REDIS_PING_REPLY.test(got)));
  });
}

/**
 * A TLS connect that timed out, where a plain Redis answers at the same host and port: the
 * diagnosis is ERR_STORE_TLS_NOT_TLS, not a timeout. Any other failure is given back as it is.
 */
export async function probeNotTls(
  failure: StoreConnectFailure,
  attempt: ConnectAttempt,
): Promise<StoreConnectFailure> {
  if (failure.cause !== "ERR_STORE_CONNECT_TIMEOUT" || !attempt.useTls || attempt.address === undefined)
    return failure;
  if (!(await answersPlainRedis(attempt.address, Math.min(1000, attempt.timeoutMs)))) return failure;
  return {
    cause: "ERR_STORE_TLS_NOT_TLS",
    reason: `the server does not speak TLS on this port: no TLS handshake within ${attempt.timeoutMs} ms, and a plain Redis answers there (PING without TLS)`,
    fix: NOT_TLS_FIX,
  };
}

const NOT_TLS_FIX = "use redis:// for a server without TLS, or the port where it takes TLS";

const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const CLIENT_CERT = new Set([
  "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_ACCESS_DENIED",
]);
const NOT_TLS = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);
const DNS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL"]);
const NETWORK = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL"]);

/** The error underneath node-redis' wrappers (ReconnectStrategyError keeps it as originalError). */
function rootError(err: unknown): Error & { code?: string } {
  let e = err as Error & { originalError?: unknown; code?: string };
  for (let depth = 0; depth < 5 && e?.originalError instanceof Error; depth++) {
    e = e.originalError as Error & { originalError?: unknown; code?: string };
  }
  return e instanceof Error ? e : new Error(String(err));
}

/**
 * The cause of a failed connect, and its fix, from the error node-redis gave up with (or the
 * last one it reported). Never quotes the URL: the caller says where, with the password redacted.
 */
export function diagnoseConnectFailure(err: unknown, attempt: ConnectAttempt): StoreConnectFailure {
  const e = rootError(err);
  const code = typeof e.code === "string" ? e.code : "";
  const text = e.message.split("\n")[0]!.trim();
  const said = `(${text})`;
  const caFlag = "pass --redis-ca FILE (TRIAD_REDIS_CA; redis.tls.ca in code)";
  if (UNTRUSTED.has(code)) {
    return {
      cause: "ERR_STORE_TLS_UNTRUSTED",
      reason: `the server's TLS certificate is not trusted: self-signed or signed by an unknown certificate authority ${said}`,
      fix: attempt.hasCa
        ? "the CA file given did not sign the server's certificate: pass the CA certificate your Redis provider publishes for this server"
        : `${caFlag} with the certificate of the authority that signed the server's certificate (your Redis provider publishes it)`,
    };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return {
      cause: "ERR_STORE_TLS_HOSTNAME",
      reason: `the server's TLS certificate is for other host names than the one connected to ${said}`,
      fix: "connect by a host name the certificate lists (the one your Redis provider gives), not by an IP address or an alias",
    };
  }
  if (EXPIRED.has(code)) {
    return {
      cause: "ERR_STORE_TLS_EXPIRED",
      reason: `the server's TLS certificate is outside its validity period ${said}`,
      fix: "renew the server's certificate, or correct this machine's clock if it is wrong",
    };
  }
  if (CLIENT_CERT.has(code) || /certificate required|alert unknown ca|alert bad certificate/i.test(text)) {
    return {
      cause: "ERR_STORE_TLS_CLIENT_CERT",
      reason: attempt.hasClientCert
        ? `the server refused this client's TLS certificate ${said}`
        : `the server wants a client certificate (mutual TLS) and none was given ${said}`,
      fix: attempt.hasClientCert
        ? "pass a client certificate signed by a CA the server trusts (--redis-cert FILE and --redis-key FILE)"
        : "pass the client certificate and its key: --redis-cert FILE --redis-key FILE (TRIAD_REDIS_CERT, TRIAD_REDIS_KEY; redis.tls.cert and .key in code)",
    };
  }
  if (NOT_TLS.has(code)) {
    return {
      cause: "ERR_STORE_TLS_NOT_TLS",
      reason: `the server does not speak TLS on this port ${said}`,
      fix: NOT_TLS_FIX,
    };
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || /\bSSL routines\b/.test(text)) {
    return {
      cause: "ERR_STORE_TLS",
      reason: `the TLS handshake with the server failed ${said}`,
      fix: "check the server's TLS settings (protocol version, ciphers) against the certificates given",
    };
  }
  if (/^WRONGPASS\b/.test(text) || /invalid (username-)?password/i.test(text)) {
    return {
      cause: "ERR_STORE_AUTH",
      reason: `the server refused the user name or password ${said}`,
      fix: "put the right password in the URL (rediss://:PASSWORD@host:port, or rediss://USER:PASSWORD@host:port for an ACL user; URL-encode special characters)",
    };
  }
  if (/^NOAUTH\b/.test(text)) {
    return {
      cause: "ERR_STORE_AUTH",
      reason: "the server wants a password and none was given (NOAUTH)",
      fix: "put the password in the URL: rediss://:PASSWORD@host:port (or rediss://USER:PASSWORD@host:port)",
    };
  }
  if (/AUTH.*without any password configured|no password is set/i.test(text)) {
    return {
      cause: "ERR_STORE_AUTH",
      reason: `a password was given but the server has none ${said}`,
      fix: "leave the password out of the URL, or set one on the server (requirepass)",
    };
  }
  if (code === "ECONNREFUSED") {
    return {
      cause: "ERR_STORE_REFUSED",
      reason: `the connection was refused: nothing listens at that host and port ${said}`,
      fix: "start Redis there, or correct the host and port in the URL",
    };
  }
  if (DNS.has(code)) {
    return {
      cause: "ERR_STORE_DNS",
      reason: `the host name was not found ${said}`,
      fix: "check the host name in the URL for typos, and that this machine's DNS resolves it",
    };
  }
  if (NETWORK.has(code)) {
    return {
      cause: "ERR_STORE_NETWORK",
      reason: `the host cannot be reached from here ${said}`,
      fix: "check the network route, VPN or VPC peering between this machine and Redis",
    };
  }
  if (e.constructor.name === "ConnectionTimeoutError" || code === "ETIMEDOUT" || /timed? ?out/i.test(text)) {
    return {
      cause: "ERR_STORE_CONNECT_TIMEOUT",
      reason: `no answer within ${attempt.timeoutMs} ms ${said}`,
      fix: attempt.useTls
        ? "check that a firewall or security group lets this machine in, and that this port takes TLS (else use redis://); a slow link needs a longer connect timeout"
        : "check that a firewall or security group lets this machine in, and the host and port; a slow link needs a longer connect timeout",
    };
  }
  if (code === "ECONNRESET" || e.constructor.name === "SocketClosedUnexpectedlyError") {
    // Under TLS 1.3 a server that wants a client certificate may hang up before its alert is read.
    return {
      cause: "ERR_STORE_RESET",
      reason: `the server closed the connection before answering ${said}`,
      fix: !attempt.useTls
        ? "if this port takes TLS (most managed Redis services do), use rediss://; else check that this machine may connect"
        : attempt.hasClientCert
          ? "check the port, that this machine may connect (an allow-list of client addresses), and that the server trusts the client certificate"
          : "if the server wants mutual TLS, pass --redis-cert FILE --redis-key FILE; else check the port and that this machine may connect (an allow-list of client addresses)",
    };
  }
  if (/Unknown RESP type|Protocol error/i.test(text)) {
    return {
      cause: "ERR_STORE_NOT_REDIS",
      reason: `something answered that is not Redis ${said}`,
      fix: "check the port in the URL: it leads to another service",
    };
  }
  return {
    cause: "ERR_STORE_CONNECT",
    reason: `the connection failed ${said}`,
    fix: "check the URL, and that Redis runs there and lets this machine in",
  };
}

/** Causes that another attempt's error may explain better (a reset can hide a TLS alert). */
const VAGUE = new Set<StoreConnectCause>([
  "ERR_STORE_RESET",
  "ERR_STORE_CONNECT_TIMEOUT",
  "ERR_STORE_CONNECT",
]);

/** Of the errors one connect()'s attempts gave, in order, the diagnosis that says most. */
export function diagnoseConnectFailures(errors: unknown[], attempt: ConnectAttempt): StoreConnectFailure {
  const all = errors.map((err) => diagnoseConnectFailure(err, attempt));
  return all.find((d) => !VAGUE.has(d.cause)) ?? all.at(-1) ?? diagnoseConnectFailure(undefined, attempt);
}

/**
 * The error an agent (or any user of the store) throws when it cannot connect: still
 * ERR_STORE_UNAVAILABLE, as before, with the cause and its fix in the message and in
 * `details.cause` / `details.fix`. `where` is the redacted URL.
 */
export function storeUnreachable(
  who: string,
  where: string,
  failure: StoreConnectFailure | undefined,
): TriadError {
  if (failure === undefined) {
    return new TriadError("ERR_STORE_UNAVAILABLE", `${who} cannot reach its store at ${where}`);
  }
  return new TriadError(
    "ERR_STORE_UNAVAILABLE",
    `${who} cannot reach its store at ${where}: ${failure.reason} [${failure.cause}]. Fix: ${failure.fix}`,
    { cause: failure.cause, fix: failure.fix },
  );
}
