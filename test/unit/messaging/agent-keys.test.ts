import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  AgentKeySigner,
  parsePrivateKey,
  parsePublicKey,
  StaticKeyDirectory,
} from "../../../src/core/messaging/agent-keys.js";
import { canonicalJsonWithout } from "../../../src/core/messaging/canonical-json.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { MessageType } from "../../../src/core/messaging/types.js";

/**
 * Issue 21, item 9: with per-agent keys, a key can speak only as the agent it belongs to. Each
 * agent signs with its own Ed25519 key (`ed25519:<base64url>`), and a receiver takes a message
 * only if it verifies under the public key registered for the message's sender. Without keys,
 * nothing changes: HMAC-SHA256 under the shared secret, 64 hex digits.
 */

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    publicDer: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

const a = keyPair();
const b = keyPair();
const me = keyPair();
const directory = new StaticKeyDirectory({ a: a.publicPem, b: b.publicDer, me: me.publicPem });

const clients: A2AClient[] = [];
function client(agentId: string, privatePem?: string, tokenSecret = "") {
  const c = new A2AClient({
    agentId,
    tokenSecret,
    router: null,
    ...(privatePem ? { agentKeys: { privateKey: privatePem, directory } } : {}),
  });
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe("per-agent Ed25519 keys", () => {
  it("signs as ed25519:<base64url of 64 bytes> over the same canonical JSON", () => {
    const message = client("a", a.privatePem).createMessage("me", { hello: "world" });
    expect(message.signature).toMatch(/^ed25519:[A-Za-z0-9_-]{86}$/);
    const signer = new AgentKeySigner(parsePrivateKey(a.privatePem));
    expect(signer.publicKeyPem()).toBe(a.publicPem);
    // Ed25519 is deterministic: the same text, the same signature.
    expect(signer.sign(canonicalJsonWithout(message, "signature"))).toBe(message.signature);
  });

  it("takes a message signed by its sender's own key", async () => {
    const receiver = client("me", me.privatePem);
    const seen: string[] = [];
    receiver.registerHandler(MessageType.EVENT, (m) => {
      seen.push(m.sender);
    });
    const message = client("a", a.privatePem).createMessage(
      "me",
      { event_type: "x", event_data: {} },
      MessageType.EVENT,
    );
    expect(receiver.verify(message)).toBe(true);
    expect(await receiver.handleMessage(message)).toBe(true);
    expect(seen).toEqual(["a"]);
    expect(receiver.stats().verifiedByKey).toEqual({ "agent-key": 1 });
  });

  it("refuses a message from a signed with b's key: a key speaks only as its own agent", async () => {
    const receiver = client("me", me.privatePem);
    const refused: string[] = [];
    receiver.onRejected((e) => refused.push(`${e.reason}: ${e.detail}`));
    const posingAsA = client("a", b.privatePem).createMessage(
      "me",
      { event_type: "x", event_data: {} },
      MessageType.EVENT,
    );
    expect(receiver.verify(posingAsA)).toBe(false);
    expect(await receiver.handleMessage(posingAsA)).toBe(false);
    expect(refused).toEqual(["bad_signature: signature is not a's"]);
  });

  it("refuses a sender with no registered key, and a message made with the shared secret", async () => {
    const receiver = client("me", me.privatePem, "shared");
    const stranger = client("c", keyPair().privatePem).createMessage("me", { x: 1 });
    expect(await receiver.handleMessage(stranger)).toBe(false);
    const hmac = client("a", undefined, "shared").createMessage("me", { x: 1 });
    expect(hmac.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(await receiver.handleMessage(hmac)).toBe(false); // the secret is no key here
    expect(receiver.stats().rejected.bad_signature).toBe(2);
  });

  it("leaves the default as it was: HMAC-SHA256 under the shared secret, 64 hex digits", async () => {
    const receiver = client("me", undefined, "shared");
    const message = client("a", undefined, "shared").createMessage("me", { x: 1 });
    expect(message.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(await receiver.handleMessage(message)).toBe(false); // no handler, but admitted:
    expect(receiver.stats().accepted).toBe(1);
    const keyed = client("b", b.privatePem).createMessage("me", { x: 1 });
    expect(await receiver.handleMessage(keyed)).toBe(false);
    expect(receiver.stats().rejected.bad_signature).toBe(1);
  });

  it("reads public keys as SPKI PEM or base64 DER, and refuses keys that are not Ed25519", () => {
    expect(parsePublicKey(a.publicPem).asymmetricKeyType).toBe("ed25519");
    expect(parsePublicKey(a.publicDer).asymmetricKeyType).toBe("ed25519");
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    expect(() => parsePublicKey(rsa.publicKey.export({ type: "spki", format: "pem" }).toString())).toThrow(
      /not an Ed25519 key/,
    );
    expect(() => parsePrivateKey("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----")).toThrow(
      /not a private key/,
    );
  });
});
