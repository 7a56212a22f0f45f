import type { KeyObject } from "node:crypto";
import { TriadError } from "../core/errors.js";
import { checkKnownKeys, type KeysOf } from "../core/known-keys.js";
import { type PublicKeyDirectory, parsePublicKey } from "../core/messaging/index.js";
import { optionsObject, shownValue } from "../core/option-kinds.js";
import { RedisClient } from "../core/store/index.js";
import { checkedMs } from "./agent-options.js";

/** The store key of the registry: one JSON object, agent id -> RegisteredKey. */
export const AGENT_KEYS_KEY = "agent-keys";

/** What an agent is: a key registered with a role speaks only as that kind of agent. */
export const AGENT_ROLES = ["coordinator", "distributor", "worker"] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

export type RegisteredKey = { public_key: string; created_at: string; role?: AgentRole };

/** Every AgentKeyRegistry option and its type: a misspelt one (`refreshMS`) was ignored. */
const REGISTRY_KEYS: KeysOf<AgentKeyRegistryOptions> = {
  refreshMs: "number",
  missRefreshMs: "number",
  onError: "function",
};

export type AgentKeyRegistryOptions = {
  /** How often the keys are read again (revocations and new agents are seen within this). Default 5 s. */
  refreshMs?: number;
  /** A sender with no key known makes the registry read again, at most this often. Default 1 s. */
  missRefreshMs?: number;
  /** Told when a refresh fails (the keys known stay in use). */
  onError?: (err: Error) => void;
};

/**
 * The public keys of a deployment's agents, kept in its store where every agent with a store can
 * read them, written by the operator's tooling (`triad keys generate|revoke`). As a
 * PublicKeyDirectory it answers from memory — verification runs once per message — and reads
 * the store again every `refreshMs`, and soon after a sender it does not know speaks (a new
 * agent), so a key registered or revoked takes effect within a refresh.
 */
export class AgentKeyRegistry implements PublicKeyDirectory {
  private readonly known = new Map<string, { text: string; key: KeyObject; role: AgentRole | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private lastRead = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  private readonly refreshMs: number;
  private readonly missRefreshMs: number;

  constructor(
    private readonly store: RedisClient,
    private readonly options: AgentKeyRegistryOptions = {},
  ) {
    if (!(store instanceof RedisClient))
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `new AgentKeyRegistry(): store must be a RedisClient (got ${shownValue(store)})`,
        {
          option: "store",
        },
      );
    optionsObject("new AgentKeyRegistry()", options);
    checkKnownKeys("new AgentKeyRegistry()", options, REGISTRY_KEYS);
    this.refreshMs = checkedMs("refreshMs", options.refreshMs ?? 5_000);
    this.missRefreshMs = checkedMs("missRefreshMs", options.missRefreshMs ?? 1_000);
  }

  /** Registers (or replaces) the public key (SPKI PEM) of `agentId`, the `role` it may speak in. */
  async register(agentId: string, publicKeyPem: string, role?: AgentRole): Promise<void> {
    if (typeof agentId !== "string" || agentId.length === 0) {
      throw new TriadError("ERR_INVALID_ARGUMENT", "an agent id must be a non-empty string");
    }
    parsePublicKey(publicKeyPem);
    if (role !== undefined && !AGENT_ROLES.includes(role)) {
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `a role is one of ${AGENT_ROLES.join(", ")} (got ${role})`,
      );
    }
    const entry: RegisteredKey = {
      public_key: publicKeyPem,
      created_at: new Date().toISOString(),
      ...(role ? { role } : {}),
    };
    const written = await this.store.transaction<Record<string, RegisteredKey>>(AGENT_KEYS_KEY, (cur) => ({
      ...(cur ?? {}),
      [agentId]: entry,
    }));
    if (written === null)
      throw new TriadError("ERR_STORE_CONFLICT", `could not register the key of ${agentId}`);
  }

  /** Removes the key of `agentId`: its messages are refused once each agent has read again. */
  async revoke(agentId: string): Promise<boolean> {
    let had = false;
    await this.store.transaction<Record<string, RegisteredKey>>(AGENT_KEYS_KEY, (cur) => {
      const next = { ...(cur ?? {}) };
      had = Object.hasOwn(next, agentId);
      delete next[agentId];
      return next;
    });
    return had;
  }

  /** Every registered key, by agent id. */
  async list(): Promise<Record<string, RegisteredKey>> {
    const value = await this.store.get(AGENT_KEYS_KEY);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
    const out: Record<string, RegisteredKey> = {};
    for (const [id, entry] of Object.entries(value)) {
      const e = entry as Partial<RegisteredKey> | null;
      if (typeof e?.public_key === "string") {
        const role = AGENT_ROLES.find((r) => r === e.role);
        out[id] = {
          public_key: e.public_key,
          created_at: String(e.created_at ?? ""),
          ...(role ? { role } : {}),
        };
      }
    }
    return out;
  }

  /** Reads the keys now; then every refreshMs until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(() => void this.refresh().catch(() => {}), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the keys from the store into memory (one read at a time). */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  publicKey(agentId: string): KeyObject | undefined {
    const found = this.known.get(agentId)?.key;
    if (found === undefined && performance.now() - this.lastRead >= this.missRefreshMs) {
      this.lastRead = performance.now();
      void this.refresh().catch(() => {});
    }
    return found;
  }

  roleOf(agentId: string): AgentRole | undefined {
    return this.known.get(agentId)?.role;
  }

  private async read(): Promise<void> {
    this.lastRead = performance.now();
    let keys: Record<string, RegisteredKey>;
    try {
      keys = await this.list();
    } catch (err) {
      this.options.onError?.(err as Error);
      throw err;
    }
    for (const id of this.known.keys()) if (!Object.hasOwn(keys, id)) this.known.delete(id);
    for (const [id, { public_key, role }] of Object.entries(keys)) {
      const known = this.known.get(id);
      if (known?.text === public_key) {
        known.role = role;
        continue;
      }
      try {
        this.known.set(id, { text: public_key, key: parsePublicKey(public_key), role });
      } catch (err) {
        this.known.delete(id); // a key that does not parse verifies nothing
        this.options.onError?.(
          new Error(`the registered key of ${id} is unusable: ${(err as Error).message}`),
        );
      }
    }
  }
}
