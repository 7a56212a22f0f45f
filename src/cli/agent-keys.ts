import { readFileSync } from "node:fs";
import { AgentKeyRegistry } from "../agents/agent-key-registry.js";
import type { Logger } from "../core/logger.js";
import {
  AgentKeySigner,
  type AgentKeysConfig,
  type PublicKeyDirectory,
  StaticKeyDirectory,
} from "../core/messaging/index.js";
import { RedisClient, type RedisConfig } from "../core/store/index.js";
import { UsageError } from "./options.js";
import { requireSecret } from "./secret.js";

/** Per-agent keys of a tier process, and what to close when it stops. */
export type ProcessAgentKeys = { agentKeys: AgentKeysConfig; close(): Promise<void> };

/** How a tier process signs: its own key (per-agent keys), else TRIAD_SECRET; `close` when it stops. */
export async function tierSigning(
  agentId: string,
  redis: RedisConfig | undefined,
  log: Logger,
): Promise<{ tokenSecret: string; agentKeys?: AgentKeysConfig; close(): Promise<void> }> {
  const keys = await agentKeysFromEnv(agentId, redis, log);
  if (keys === null) return { tokenSecret: requireSecret(), close: async () => {} };
  return { tokenSecret: "", agentKeys: keys.agentKeys, close: keys.close };
}

/** `agent`, closing `close` too once it has shut down (runAgentProcess's view of it). */
export function closingWith<
  A extends { a2a: unknown; initialize(): Promise<unknown>; shutdown(ms: number): Promise<unknown> },
>(agent: A, close: () => Promise<void>): Pick<A, "a2a" | "initialize" | "shutdown"> {
  return {
    a2a: agent.a2a,
    initialize: () => agent.initialize(),
    shutdown: async (ms) => {
      try {
        return await agent.shutdown(ms);
      } finally {
        await close();
      }
    },
  };
}

/**
 * Per-agent keys from the environment, or null (the shared secret, TRIAD_SECRET, as before).
 * The private key is TRIAD_AGENT_KEY (PEM) or the file TRIAD_AGENT_KEY_FILE, never argv; the
 * public keys come from TRIAD_PUBLIC_KEYS_FILE (JSON, as `triad keys list --json` prints them)
 * or else from the store at `redis` (a worker has none: it needs the file).
 */
export async function agentKeysFromEnv(
  agentId: string,
  redis: RedisConfig | undefined,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ProcessAgentKeys | null> {
  const privateKey = privateKeyFromEnv(env);
  if (privateKey === null) return null;
  let signer: AgentKeySigner;
  try {
    signer = new AgentKeySigner(privateKey);
  } catch (err) {
    throw new UsageError(`TRIAD_AGENT_KEY(_FILE): ${(err as Error).message}`);
  }
  const { directory, close } = await publicKeys(redis, log, env);
  const registered = directory.publicKey(agentId);
  const mine = signer.publicKeyPem();
  if (registered === undefined) {
    log.warn(
      { agent: agentId },
      "no public key is registered for this agent yet: its peers refuse its messages",
    );
  } else if (registered.export({ type: "spki", format: "pem" }).toString() !== mine) {
    await close();
    throw new UsageError(
      `the key in TRIAD_AGENT_KEY(_FILE) is not the one registered for ${agentId} (triad keys generate --agent ${agentId})`,
    );
  }
  log.info({ agent: agentId }, "signing with this agent's own key (per-agent keys)");
  return { agentKeys: { privateKey, directory }, close };
}

function privateKeyFromEnv(env: NodeJS.ProcessEnv): string | null {
  const inline = env.TRIAD_AGENT_KEY;
  const file = env.TRIAD_AGENT_KEY_FILE;
  if (inline && file) throw new UsageError("set TRIAD_AGENT_KEY or TRIAD_AGENT_KEY_FILE, not both");
  if (inline) return inline;
  if (!file) return null;
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read TRIAD_AGENT_KEY_FILE ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
}

async function publicKeys(
  redis: RedisConfig | undefined,
  log: Logger,
  env: NodeJS.ProcessEnv,
): Promise<{ directory: PublicKeyDirectory; close(): Promise<void> }> {
  const file = env.TRIAD_PUBLIC_KEYS_FILE;
  if (file) return { directory: keysFile(file), close: async () => {} };
  if (redis === undefined) {
    throw new UsageError(
      "with TRIAD_AGENT_KEY(_FILE) a worker needs TRIAD_PUBLIC_KEYS_FILE, the public keys as `triad keys list --redis URL --json` prints them (it has no store to read them from)",
    );
  }
  const store = new RedisClient(redis);
  if (!(await store.connect())) throw store.unreachable("this process (reading the agents' public keys)");
  const registry = new AgentKeyRegistry(store, {
    onError: (err) =>
      log.warn({ err: err.message }, "could not read the agents' public keys; using those known"),
  });
  await registry.start();
  return {
    directory: registry,
    close: async () => {
      registry.stop();
      await store.disconnect();
    },
  };
}

/** `{ id: PEM }` or `{ id: { public_key: PEM, ... } }`. */
function keysFile(path: string): StaticKeyDirectory {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`cannot read TRIAD_PUBLIC_KEYS_FILE ${path}: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`TRIAD_PUBLIC_KEYS_FILE ${path} must be a JSON object of agent id -> public key`);
  }
  const keys: Record<string, { public_key: string; role?: string }> = {};
  for (const [id, entry] of Object.entries(parsed)) {
    const e = (typeof entry === "string" ? { public_key: entry } : entry) as {
      public_key?: unknown;
      role?: unknown;
    } | null;
    if (typeof e?.public_key !== "string") {
      throw new UsageError(`TRIAD_PUBLIC_KEYS_FILE ${path}: no public key for ${id}`);
    }
    keys[id] = { public_key: e.public_key, ...(typeof e.role === "string" ? { role: e.role } : {}) };
  }
  try {
    return new StaticKeyDirectory(keys);
  } catch (err) {
    throw new UsageError(`TRIAD_PUBLIC_KEYS_FILE ${path}: ${(err as Error).message}`);
  }
}
