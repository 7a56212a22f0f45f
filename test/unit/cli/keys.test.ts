import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { agentKeysFromEnv } from "../../../src/cli/agent-keys.js";
import { main } from "../../../src/cli/main.js";
import { silentLogger } from "../../../src/core/logger.js";
import { AgentKeySigner } from "../../../src/core/messaging/agent-keys.js";

/**
 * `triad keys generate|list|revoke`, the operator's tooling for per-agent keys (issue 21, item
 * 9): the private key goes to a file only its owner reads and nowhere else; the public key is
 * registered in the store; an agent takes its key from the environment, never from argv.
 */

const dir = mkdtempSync(join(tmpdir(), "triad-keys-"));
const store = `memory://keys-cli-${process.pid}`;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("triad keys", () => {
  it("generate writes the private key to a 0600 file, prints only the public half, and registers it", async () => {
    const file = join(dir, "w1.key");
    const { code, out, err } = await run(
      "keys",
      "generate",
      "--agent",
      "w1",
      "--role",
      "worker",
      "--redis",
      store,
      "--out",
      file,
    );
    expect(code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const privatePem = readFileSync(file, "utf8");
    expect(privatePem).toContain("BEGIN PRIVATE KEY");
    expect(out + err).not.toContain("PRIVATE KEY");
    const printed = JSON.parse(out) as { agent: string; public_key: string; fingerprint: string };
    expect(printed.agent).toBe("w1");
    expect(JSON.parse(out).role).toBe("worker");
    expect(printed.public_key).toBe(new AgentKeySigner(privatePem).publicKeyPem());

    const listed = await run("keys", "list", "--redis", store, "--json");
    expect(JSON.parse(listed.out).w1.public_key).toBe(printed.public_key);
    expect(JSON.parse(listed.out).w1.role).toBe("worker");
    expect((await run("keys", "list", "--redis", store)).out).toContain(`w1\tworker\t`);
    const badRole = await run("keys", "generate", "--agent", "w9", "--role", "admin", "--redis", store);
    expect(badRole.code).toBe(2);
  });

  it("never overwrites a key file: exit 1, one line naming it", async () => {
    const file = join(dir, "taken.key");
    writeFileSync(file, "something else");
    const { code, err } = await run(
      "keys",
      "generate",
      "--agent",
      "w2",
      "--role",
      "worker",
      "--redis",
      store,
      "--out",
      file,
    );
    // A refusal of the run, not a usage error: exit 1, one line naming the file, no usage text.
    expect(code).toBe(1);
    expect(err).toBe(
      `triad keys generate: ${file} exists, and a key file is never overwritten: remove it, or write elsewhere with --out FILE\n`,
    );
    expect(readFileSync(file, "utf8")).toBe("something else");
  });

  it("revoke removes a key, and says so when there was none", async () => {
    await run(
      "keys",
      "generate",
      "--agent",
      "w3",
      "--role",
      "worker",
      "--redis",
      store,
      "--out",
      join(dir, "w3.key"),
    );
    expect((await run("keys", "revoke", "--agent", "w3", "--redis", store)).code).toBe(0);
    expect((await run("keys", "revoke", "--agent", "w3", "--redis", store)).code).toBe(1);
    expect(JSON.parse((await run("keys", "list", "--redis", store, "--json")).out).w3).toBeUndefined();
  });

  it("revoke refuses an id no agent can have, and names the code when no key of that agent exists", async () => {
    const malformed = await run("keys", "revoke", "--agent", "w 1/x", "--redis", store);
    expect(malformed.code).toBe(2);
    expect(malformed.err).toContain('--agent "w 1/x" is not an agent id: it holds a space');
    expect(malformed.err).toContain("[ERR_BAD_AGENT_ID]");
    const tooLong = await run("keys", "revoke", "--agent", "a".repeat(129), "--redis", store);
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toContain("[ERR_BAD_AGENT_ID]");
    const unknown = await run("keys", "revoke", "--agent", "nobody", "--redis", store);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(
      "triad keys revoke: no key is registered for nobody, so none was revoked (triad keys list shows those registered) [ERR_NOT_FOUND]\n",
    );
  });
});

describe("an agent's key from the environment", () => {
  it("is read from TRIAD_AGENT_KEY_FILE, with the public keys from the store", async () => {
    const file = join(dir, "d1.key");
    await run("keys", "generate", "--agent", "d1", "--role", "distributor", "--redis", store, "--out", file);
    const keys = await agentKeysFromEnv("d1", { url: store }, silentLogger, { TRIAD_AGENT_KEY_FILE: file });
    expect(keys).not.toBeNull();
    expect(keys!.agentKeys.directory.publicKey("d1")?.asymmetricKeyType).toBe("ed25519");
    await keys!.close();
  });

  it("is refused when it is not the key registered for the agent", async () => {
    const other = generateKeyPairSync("ed25519")
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    await expect(
      agentKeysFromEnv("d1", { url: store }, silentLogger, { TRIAD_AGENT_KEY: other }),
    ).rejects.toThrow(/not the one registered for d1/);
  });

  it("takes the public keys from TRIAD_PUBLIC_KEYS_FILE for a worker (no store), and wants that file", async () => {
    const file = join(dir, "w4.key");
    await run("keys", "generate", "--agent", "w4", "--role", "worker", "--redis", store, "--out", file);
    const env = { TRIAD_AGENT_KEY_FILE: file };
    await expect(agentKeysFromEnv("w4", undefined, silentLogger, env)).rejects.toThrow(
      /TRIAD_PUBLIC_KEYS_FILE/,
    );
    const publicKeys = join(dir, "public-keys.json");
    writeFileSync(publicKeys, (await run("keys", "list", "--redis", store, "--json")).out);
    const keys = await agentKeysFromEnv("w4", undefined, silentLogger, {
      ...env,
      TRIAD_PUBLIC_KEYS_FILE: publicKeys,
    });
    expect(keys!.agentKeys.directory.publicKey("d1")).toBeDefined();
    expect(keys!.agentKeys.directory.roleOf?.("d1")).toBe("distributor");
  });

  it("is not looked for when neither variable is set: the shared secret, as before", async () => {
    expect(await agentKeysFromEnv("x", { url: store }, silentLogger, {})).toBeNull();
  });
});
