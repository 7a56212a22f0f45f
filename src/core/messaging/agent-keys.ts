import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { TriadError } from "../errors.js";
import type { Keyring } from "./keyring.js";

/**
 * How signatures are made and checked. The default is the seed's: HMAC-SHA256 under a secret
 * every agent shares (the Keyring), 64 hex digits. Opt-in, each agent has its own Ed25519 key
 * pair: it signs with its private key, written `ed25519:<base64url of the 64-byte signature>`,
 * and a receiver takes a message only if it verifies under the public key registered for its
 * `sender` — so a key can speak only as the agent it belongs to.
 */
export interface MessageSigner {
  /** The `signature` of a message whose canonical JSON without `signature` is `text`. */
  sign(text: string): string;
}

export interface MessageVerifier {
  /** Cheap, before any hashing: whether `signature` has the form this verifier checks. */
  wellFormed(signature: string): boolean;
  /** Whether `signature` over `text` was made by `sender`'s key: the id of the key, or why not. */
  verify(
    text: string,
    signature: string,
    sender: string,
  ): { ok: true; keyId: string } | { ok: false; problem: string };
}

/** The public keys of a deployment's agents, by agent id. Called once per message: answer from memory. */
export interface PublicKeyDirectory {
  /** The key registered for `agentId`; undefined when none is (or none is known here yet). */
  publicKey(agentId: string): KeyObject | undefined;
  /** The role registered with that key ("coordinator", "distributor", "worker"), if any. */
  roleOf?(agentId: string): string | undefined;
}

/** Per-agent keys (A2AConfig.agentKeys): this agent's private key, and everyone's public keys. */
export type AgentKeysConfig = {
  /** An Ed25519 private key: a KeyObject, or PKCS#8 PEM text. */
  privateKey: KeyObject | string;
  directory: PublicKeyDirectory;
};

export const ED25519_PREFIX = "ed25519:";
/** Characters of a signature: `ed25519:` and 86 of base64url (64 bytes); 64 hex digits (HMAC-SHA256). */
export const ED25519_SIGNATURE_LENGTH = ED25519_PREFIX.length + 86;
export const HMAC_SIGNATURE_LENGTH = 64;
const ED25519_SIGNATURE = /^ed25519:[A-Za-z0-9_-]{86}$/;
const HMAC_SIGNATURE = /^[0-9a-f]{64}$/;
/** The key id reported in stats().verifiedByKey for messages verified by an agent's own key. */
export const AGENT_KEY_ID = "agent-key";

/** Signs with this agent's Ed25519 private key. */
export class AgentKeySigner implements MessageSigner {
  private readonly key: KeyObject;

  constructor(privateKey: KeyObject | string) {
    this.key = typeof privateKey === "string" ? parsePrivateKey(privateKey) : privateKey;
    if (this.key.type !== "private" || this.key.asymmetricKeyType !== "ed25519") {
      throw new TriadError("ERR_INVALID_CONFIG", "a2a.agentKeys.privateKey must be an Ed25519 private key");
    }
  }

  /** The public half, as registered for this agent (SPKI PEM). */
  publicKeyPem(): string {
    return createPublicKey(this.key).export({ type: "spki", format: "pem" }).toString();
  }

  sign(text: string): string {
    return ED25519_PREFIX + sign(null, Buffer.from(text, "utf8"), this.key).toString("base64url");
  }
}

/** Accepts a message only under the public key its sender registered. */
export class AgentKeyVerifier implements MessageVerifier {
  constructor(private readonly directory: PublicKeyDirectory) {}

  wellFormed(signature: string): boolean {
    return ED25519_SIGNATURE.test(signature);
  }

  verify(text: string, signature: string, sender: string) {
    const key = this.directory.publicKey(sender);
    if (key === undefined)
      return { ok: false as const, problem: `no public key is registered for ${sender}` };
    const raw = Buffer.from(signature.slice(ED25519_PREFIX.length), "base64url");
    return verify(null, Buffer.from(text, "utf8"), key, raw)
      ? { ok: true as const, keyId: AGENT_KEY_ID }
      : { ok: false as const, problem: `signature is not ${sender}'s` };
  }
}

/** The seed's HMAC-SHA256 under the shared secrets of a keyring (the sender does not matter). */
export function keyringVerifier(keyring: Keyring): MessageVerifier {
  return {
    wellFormed: (signature: string): boolean => HMAC_SIGNATURE.test(signature),
    verify: (text, signature) => {
      const keyId = keyring.verify(text, signature);
      return keyId === null
        ? { ok: false, problem: "signature does not match any key" }
        : { ok: true, keyId };
    },
  };
}

/** An Ed25519 public key from SPKI PEM, or the base64 of its SPKI DER. */
export function parsePublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = text.includes("-----BEGIN")
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(text, "base64"), format: "der", type: "spki" });
  } catch (err) {
    throw new TriadError("ERR_INVALID_KEY", `not a public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new TriadError("ERR_INVALID_KEY", `not an Ed25519 key (${key.asymmetricKeyType})`);
  }
  return key;
}

/** An Ed25519 private key from PKCS#8 PEM. The message never quotes the key. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new TriadError("ERR_INVALID_KEY", "not a private key in PEM (PKCS#8) form");
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new TriadError("ERR_INVALID_KEY", `not an Ed25519 private key (${key.asymmetricKeyType})`);
  }
  return key;
}

/**
 * A directory given whole, e.g. read from a file: agent id -> SPKI PEM (or base64 DER), or
 * `{ public_key, role }` as `triad keys list --json` prints it.
 */
export class StaticKeyDirectory implements PublicKeyDirectory {
  private readonly keys = new Map<string, { key: KeyObject; role: string | undefined }>();

  constructor(keys: Record<string, string | { public_key: string; role?: string | undefined }>) {
    for (const [agentId, entry] of Object.entries(keys)) {
      const { public_key, role } = typeof entry === "string" ? { public_key: entry, role: undefined } : entry;
      this.keys.set(agentId, { key: parsePublicKey(public_key), role });
    }
  }

  publicKey(agentId: string): KeyObject | undefined {
    return this.keys.get(agentId)?.key;
  }

  roleOf(agentId: string): string | undefined {
    return this.keys.get(agentId)?.role;
  }
}
