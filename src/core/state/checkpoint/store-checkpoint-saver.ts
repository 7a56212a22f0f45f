import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointTuple,
} from "@langchain/langgraph/web";
import { TriadError } from "../../errors.js";
import type { RedisClient } from "../../store/redis-client.js";
import {
  addressOf,
  type ChannelVersions,
  decodeTuple,
  encodePut,
  encodeWrites,
  type ListOptions,
  type PendingWrite,
  replacesExisting,
  type Serde,
  type StoredWrite,
  storedWrites,
  writeSlot,
} from "./codec.js";
import { byIdDescending, type ListCandidate, listTuples } from "./list-tuples.js";
import * as keys from "./store-keys.js";
import * as scripts from "./store-scripts.js";
import {
  type CheckpointPutTransfer,
  type CheckpointTransfer,
  type CheckpointWritesTransfer,
  parseCheckpointTransfer,
  type SerializedValue,
} from "./transfer.js";

export type StoreCheckpointSaverOptions = {
  /** Every write refreshes the thread's keys to expire after this long; default: kept until deleteThread. */
  ttlSeconds?: number;
  serde?: Serde;
};

export type ImportOptions = {
  /** The thread the sender may write (the task it was given); a transfer for another thread is refused. */
  threadId?: string;
  /** The sender's fencing token: refused (false) when the thread is fenced for a newer one. */
  fencingToken?: number;
};

type IndexEntry = { parent_checkpoint_id: string | null; metadata: SerializedValue };

/**
 * A LangGraph checkpointer on Triad's store (RedisClient), so durable graphs run on plain
 * Redis 7 and on memory:// alike (LangGraph's Redis saver needs Redis 8 modules). Each write
 * is one Lua script on one hash slot. The distributor also uses it as the home of its workers'
 * checkpoints: importTransfer() stores what a worker's RelayCheckpointSaver sent, fenced by the
 * worker's token; exportThread() gives what the next worker of a reassigned task resumes from.
 *
 * getTuple() without a checkpoint_id returns the checkpoint stored last, not the largest id:
 * ids come from the clocks of the workers that wrote them, and clocks differ between hosts.
 * list() keeps LangGraph's order (newest id first) and needs a thread_id: there is no index
 * across threads, which would be one hot key for the whole cluster.
 */
export class StoreCheckpointSaver extends BaseCheckpointSaver {
  readonly #client: RedisClient;
  readonly #ttl: string;

  constructor(client: RedisClient, options: StoreCheckpointSaverOptions = {}) {
    super(options.serde);
    this.#client = client;
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && (!Number.isFinite(ttl) || ttl <= 0)) {
      throw new TriadError("ERR_INVALID_TTL", `ttlSeconds must be a positive number (got ${ttl})`);
    }
    this.#ttl = ttl === undefined ? "" : String(Math.max(1, Math.round(ttl * 1000)));
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    if (config.configurable?.thread_id === undefined) return undefined;
    const { threadId, ns, checkpointId } = addressOf(config, "getTuple");
    const id = checkpointId ?? (await this.head(threadId, ns));
    if (id === null) return undefined;
    const stored = await this.readCheckpoint(threadId, ns, id);
    return stored === undefined ? undefined : decodeTuple(this.serde, stored.put, stored.writes);
  }

  async *list(config: RunnableConfig, options?: ListOptions): AsyncGenerator<CheckpointTuple> {
    const threadId = config.configurable?.thread_id;
    if (typeof threadId !== "string" || threadId === "") {
      throw new TriadError(
        "ERR_INVALID_CHECKPOINT_CONFIG",
        "StoreCheckpointSaver.list needs config.configurable.thread_id (listing across threads is not supported)",
      );
    }
    const ns = config.configurable?.checkpoint_ns;
    const namespaces = typeof ns === "string" ? [ns] : (await this.namespaces(threadId)).sort();
    yield* listTuples(this.serde, config, options, this.candidates(threadId, namespaces));
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    _newVersions?: ChannelVersions,
  ): Promise<RunnableConfig> {
    const transfer = await encodePut(this.serde, config, checkpoint, metadata);
    await this.storePut(transfer, "");
    return {
      configurable: {
        thread_id: transfer.thread_id,
        checkpoint_ns: transfer.checkpoint_ns,
        checkpoint_id: transfer.checkpoint_id,
      },
    };
  }

  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    await this.storeWrites(await encodeWrites(this.serde, config, writes, taskId, taskPath), "");
  }

  /**
   * Stores a transfer from a worker (validated here: it came from outside). Resolves false
   * when the thread is fenced for a newer owner than `options.fencingToken`.
   */
  async importTransfer(input: unknown, options: ImportOptions = {}): Promise<boolean> {
    const transfer = parseCheckpointTransfer(input);
    if (options.threadId !== undefined && transfer.thread_id !== options.threadId) {
      throw new TriadError(
        "ERR_THREAD_MISMATCH",
        `a checkpoint for thread ${transfer.thread_id} came from a sender that owns ${options.threadId}`,
      );
    }
    const token = options.fencingToken === undefined ? "" : checkToken(options.fencingToken);
    return transfer.kind === "checkpoint"
      ? this.storePut(transfer, token)
      : this.storeWrites(transfer, token);
  }

  /**
   * What a new worker resumes from: per namespace the checkpoint stored last and its pending
   * writes, as transfers (plain JSON) for a RelayCheckpointSaver's seed. Empty for a new thread.
   */
  async exportThread(threadId: string): Promise<CheckpointTransfer[]> {
    const out: CheckpointTransfer[] = [];
    for (const ns of (await this.namespaces(threadId)).sort()) {
      const id = await this.head(threadId, ns);
      const stored = id === null ? undefined : await this.readCheckpoint(threadId, ns, id);
      if (stored === undefined) continue;
      out.push(stored.put, ...groupWrites(stored.put, stored.writes));
    }
    return out;
  }

  /** Fences the thread for `fencingToken`: older tokens can no longer write. False when a newer one already holds it. */
  async fenceThread(threadId: string, fencingToken: number): Promise<boolean> {
    const reply = await this.#client.runScript(
      scripts.raiseFence,
      [keys.fenceKey(threadId)],
      [checkToken(fencingToken)],
    );
    return reply === 1;
  }

  /** Deletes every checkpoint, write and the fence of the thread. Not atomic: call it once the task is done. */
  async deleteThread(threadId: string): Promise<void> {
    const doomed = [keys.namespacesKey(threadId), keys.fenceKey(threadId)];
    for (const ns of await this.namespaces(threadId)) {
      const index = await this.readFields(keys.indexKey(threadId, ns));
      for (const id of index.keys()) doomed.push(keys.checkpointKey(threadId, ns, id));
      doomed.push(keys.indexKey(threadId, ns), keys.headKey(threadId, ns));
    }
    await Promise.all(doomed.map((key) => this.#client.delete(key)));
  }

  private async storePut(t: CheckpointPutTransfer, token: string): Promise<boolean> {
    const meta: IndexEntry = { parent_checkpoint_id: t.parent_checkpoint_id, metadata: t.metadata };
    const reply = await this.#client.runScript(
      scripts.putCheckpoint,
      [
        keys.fenceKey(t.thread_id),
        keys.namespacesKey(t.thread_id),
        keys.indexKey(t.thread_id, t.checkpoint_ns),
        keys.headKey(t.thread_id, t.checkpoint_ns),
        keys.checkpointKey(t.thread_id, t.checkpoint_ns, t.checkpoint_id),
      ],
      [
        token,
        this.#ttl,
        t.checkpoint_ns,
        t.checkpoint_id,
        JSON.stringify(t.checkpoint),
        JSON.stringify(meta),
      ],
    );
    return reply === 1;
  }

  private async storeWrites(t: CheckpointWritesTransfer, token: string): Promise<boolean> {
    const args: string[] = [token, this.#ttl];
    for (const w of storedWrites(t)) {
      args.push(keys.writeField(writeSlot(w)), JSON.stringify(w), replacesExisting(w.idx) ? "1" : "0");
    }
    const reply = await this.#client.runScript(
      scripts.putWrites,
      [keys.fenceKey(t.thread_id), keys.checkpointKey(t.thread_id, t.checkpoint_ns, t.checkpoint_id)],
      args,
    );
    return reply === 1;
  }

  private async head(threadId: string, ns: string): Promise<string | null> {
    return (await this.#client.runScript(scripts.readHead, [keys.headKey(threadId, ns)], [])) as
      | string
      | null;
  }

  private async namespaces(threadId: string): Promise<string[]> {
    return (await this.#client.runScript(
      scripts.readNamespaces,
      [keys.namespacesKey(threadId)],
      [],
    )) as string[];
  }

  private async readFields(key: string): Promise<Map<string, string>> {
    const flat = (await this.#client.runScript(scripts.readHash, [key], [])) as string[];
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
    return fields;
  }

  private async readCheckpoint(
    threadId: string,
    ns: string,
    checkpointId: string,
  ): Promise<{ put: CheckpointPutTransfer; writes: StoredWrite[] } | undefined> {
    const fields = await this.readFields(keys.checkpointKey(threadId, ns, checkpointId));
    const checkpoint = fields.get("checkpoint");
    const meta = fields.get("meta");
    if (checkpoint === undefined || meta === undefined) return undefined;
    const { parent_checkpoint_id, metadata } = JSON.parse(meta) as IndexEntry;
    const writes: StoredWrite[] = [];
    for (const [field, value] of fields)
      if (field.startsWith("w:")) writes.push(JSON.parse(value) as StoredWrite);
    const put: CheckpointPutTransfer = {
      kind: "checkpoint",
      v: 1,
      thread_id: threadId,
      checkpoint_ns: ns,
      checkpoint_id: checkpointId,
      parent_checkpoint_id,
      checkpoint: JSON.parse(checkpoint) as SerializedValue,
      metadata,
    };
    return { put, writes };
  }

  private async *candidates(threadId: string, namespaces: string[]): AsyncGenerator<ListCandidate> {
    for (const ns of namespaces) {
      const index = await this.readFields(keys.indexKey(threadId, ns));
      const entries = [...index].map(([checkpointId, json]) => ({
        checkpointId,
        metadata: (JSON.parse(json) as IndexEntry).metadata,
        load: async () => {
          const stored = await this.readCheckpoint(threadId, ns, checkpointId);
          return stored === undefined ? undefined : decodeTuple(this.serde, stored.put, stored.writes);
        },
      }));
      yield* entries.sort(byIdDescending);
    }
  }
}

/** A checkpoint's writes as transfers, one per task (the form putWrites sent them in). */
function groupWrites(put: CheckpointPutTransfer, writes: StoredWrite[]): CheckpointWritesTransfer[] {
  const byTask = new Map<string, CheckpointWritesTransfer>();
  for (const w of writes) {
    const key = JSON.stringify([w.task_id, w.task_path]);
    let t = byTask.get(key);
    if (t === undefined) {
      t = {
        kind: "writes",
        v: 1,
        thread_id: put.thread_id,
        checkpoint_ns: put.checkpoint_ns,
        checkpoint_id: put.checkpoint_id,
        task_id: w.task_id,
        task_path: w.task_path,
        writes: [],
      };
      byTask.set(key, t);
    }
    t.writes.push({ idx: w.idx, channel: w.channel, value: w.value });
  }
  return [...byTask.values()];
}

function checkToken(token: number): string {
  if (!Number.isSafeInteger(token) || token < 0) {
    throw new TriadError(
      "ERR_INVALID_ARGUMENT",
      `a fencing token must be a non-negative integer (got ${token})`,
    );
  }
  return String(token);
}
