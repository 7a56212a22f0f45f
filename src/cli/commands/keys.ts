import { createHash, generateKeyPairSync } from "node:crypto";
import { unlinkSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { AGENT_ROLES, AgentKeyRegistry, type AgentRole } from "../../agents/agent-key-registry.js";
import { TriadError } from "../../core/errors.js";
import { parsePublicKey } from "../../core/messaging/index.js";
import { RedisClient } from "../../core/store/index.js";
import { type ParsedOptions, UsageError } from "../options.js";
import { storeConfig } from "../store-flags.js";

/**
 * `triad keys generate --agent ID`: a new Ed25519 key pair for one agent. The private key goes
 * to a file only this user can read (mode 0600; never to stdout, never to a log); the public key
 * is registered in the store, where every agent with a store reads it.
 */
export async function keysGenerate(options: ParsedOptions): Promise<number> {
  const agentId = String(options.agent);
  const role = String(options.role) as AgentRole;
  if (!AGENT_ROLES.includes(role))
    throw new UsageError(`--role is one of ${AGENT_ROLES.join(", ")} (got ${role})`);
  const out = resolve(String(options.out ?? `${agentId}.key`));
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  try {
    writeFileSync(out, pem, { mode: 0o600, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Refusals of the run, not of its flags (exit 1, one line; no usage text).
    if (code === "EEXIST")
      throw new Error(
        `${out} exists, and a key file is never overwritten: remove it, or write elsewhere with --out FILE`,
      );
    throw new Error(`cannot write ${out}: ${code}`);
  }
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  try {
    await withRegistry(options, (registry) => registry.register(agentId, publicPem, role));
  } catch (err) {
    unlinkSync(out); // a private key whose public half is not registered signs nothing anyone takes
    throw err;
  }
  process.stdout.write(
    `${JSON.stringify({ agent: agentId, role, private_key_file: out, fingerprint: fingerprint(publicPem), public_key: publicPem })}\n`,
  );
  process.stderr.write(
    `Start ${agentId} with TRIAD_AGENT_KEY_FILE=${out}; its peers take its messages within a few seconds.\n`,
  );
  return 0;
}

/** `triad keys list`: the registered public keys; with --json, as TRIAD_PUBLIC_KEYS_FILE takes them. */
export async function keysList(options: ParsedOptions): Promise<number> {
  const keys = await withRegistry(options, (registry) => registry.list());
  if (options.json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return 0;
  }
  const ids = Object.keys(keys).sort();
  if (ids.length === 0) process.stdout.write("no agent keys registered\n");
  for (const id of ids) {
    const { public_key, created_at, role } = keys[id]!;
    process.stdout.write(`${id}\t${role ?? "-"}\t${created_at}\t${fingerprint(public_key)}\n`);
  }
  return 0;
}

/** `triad keys revoke --agent ID`: its messages are refused once every agent has read the keys again. */
export async function keysRevoke(options: ParsedOptions): Promise<number> {
  const agentId = String(options.agent);
  const had = await withRegistry(options, (registry) => registry.revoke(agentId));
  if (!had)
    throw new TriadError(
      "ERR_NOT_FOUND",
      `no key is registered for ${agentId}, so none was revoked (triad keys list shows those registered)`,
    );
  process.stdout.write(`revoked the key of ${agentId}\n`);
  return 0;
}

async function withRegistry<T>(
  options: ParsedOptions,
  work: (r: AgentKeyRegistry) => Promise<T>,
): Promise<T> {
  const store = new RedisClient(storeConfig(options, { url: String(options.redis) }));
  if (!(await store.connect())) throw store.unreachable("triad keys");
  try {
    return await work(new AgentKeyRegistry(store));
  } finally {
    await store.disconnect();
  }
}

/** SHA-256 of the key's SPKI DER, base64: what to compare by eye. */
function fingerprint(publicPem: string): string {
  const der = parsePublicKey(publicPem).export({ type: "spki", format: "der" });
  return `SHA256:${createHash("sha256").update(der).digest("base64").replace(/=+$/, "")}`;
}
