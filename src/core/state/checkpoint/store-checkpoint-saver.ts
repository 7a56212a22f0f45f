import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointTuple,
} from "@langchain/langgraph/web";
import { TriadError } from "../../errors.js";
import { RedisClient } from "../../store/redis-client.js";
import { nextVersion, restoreValues, type SplitPut, splitPut } from "./channel-values.js";
import {
  addressOf,
  type ChannelVersions,
  decodeTuple,
  encodePut,
  encodeWrites,
  type ListOptions,
  type PendingWrite,
  replacesExisting,
  storedWrites,
  writeSlot,
} from "./codec.js";
import { byIdDescending, type ListCandidate, listTuples } from "./list-tuples.js";
import { migratePendingSends, needsPendingSends } from "./pending-sends.js";
import {
  checkFromUrlArguments,
  checkSaverArguments,
  type StoreCheckpointSaverOptions,
  type StoreCheckpointSaverUrlOptions,
} from "./saver-options.js";
import * as keys from "./store-keys.js";
import * as scripts from "./store-scripts.js";
import {
  groupWrites,
  type IndexEntry,
  pairs,
  type ReadCheckpointReply,
  type StoredCheckpoint,
  storedCheckpoint,
  writesOf,
} from "./stored-checkpoint.js";
import { CHECKPOINT_SHARDS } from "./thread-shards.js";
import {
  type CheckpointPutTransfer,
  type CheckpointTransfer,
  type CheckpointWritesTransfer,
  parseCheckpointTransfer,
} from "./transfer.js";

export type { StoreCheckpointSaverOptions, StoreCheckpointSaverUrlOptions } from "./saver-options.js";

export type ImportOptions = {
  /** The thread the sender may write (the task it was given); a transfer for another thread is refused. */
  threadId?: string;
  /** The sender's fencing token: refused (false) when the thread is fenced for a newer one. */
  fencingToken?: number;
};

type ThreadNamespaces = { threadId: string; namespaces: string[] };
/** Which checkpoint of a namespace to read: by id, the largest id, or the one stored last. */
type Pick = { id: string } | "newest" | "head";

/**
 * A LangGraph checkpointer on Triad's store (RedisClient), so durable graphs run on plain
 * Redis 7, Redis Cluster and memory:// alike (LangGraph's Redis saver needs Redis 8 modules).
 * It passes LangGraph's own checkpointer suite (@langchain/langgraph-checkpoint-validation).
 * Each write is one Lua script on one hash slot: a thread lives in one of 16 shards, whose
 * thread index the put updates in the same script, so list() can walk every thread.
 *
 * The distributor also uses it as the home of its workers' checkpoints: importTransfer()
 * stores what a worker's RelayCheckpointSaver sent, fenced by the worker's token;
 * exportThread() gives what the next worker of a reassigned task resumes from. That is the
 * checkpoint stored last, whatever its id: ids come from the clocks of the workers that wrote
 * them, and clocks differ between hosts. getTuple() without a checkpoint_id, like LangGraph's
 * own savers, returns the largest id.
 */
export class StoreCheckpointSaver extends BaseCheckpointSaver {
  readonly #client: RedisClient;
  readonly #ttl: string;
  readonly #ownsClient: boolean;

  /**
   * A saver on its own store connection: `redis://`, `rediss://`, `redis+cluster://` or
   * `memory://<name>` (in this process only). Call end() when done with it.
   */
  static async fromUrl(
    url: string,
    options: StoreCheckpointSaverUrlOptions = {},
  ): Promise<StoreCheckpointSaver> {
    checkFromUrlArguments(url, options);
    const { ttlSeconds, serde, ...store } = options;
    const client = new RedisClient({ ...store, url });
    if (!(await client.connect())) {
      const error = client.unreachable("the checkpoint saver");
      await client.disconnect();
      throw error;
    }
    return new StoreCheckpointSaver(client, { ttlSeconds, serde }, true);
  }

  /** `ownsClient`: end() disconnects `client` (what fromUrl() passes); otherwise it stays open. */
  constructor(client: RedisClient, options: StoreCheckpointSaverOptions = {}, ownsClient = false) {
    checkSaverArguments(client, options);
    super(options.serde);
    this.#client = client;
    this.#ownsClient = ownsClient;
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && (!Number.isFinite(ttl) || ttl <= 0)) {
      throw new TriadError("ERR_INVALID_TTL", `ttlSeconds must be a positive number (got ${ttl})`);
    }
    this.#ttl = ttl === undefined ? "" : String(Math.max(1, Math.round(ttl * 1000)));
  }

  /** Closes the store connection fromUrl() opened; a saver given a client leaves it open. */
  async end(): Promise<void> {
    if (this.#ownsClient) await this.#client.disconnect();
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    if (config.configurable?.thread_id === undefined) return undefined;
    const { threadId, ns, checkpointId } = addressOf(config, "getTuple");
    const pick: Pick = checkpointId === undefined ? "newest" : { id: checkpointId };
    const stored = await this.readCheckpoint(threadId, ns, pick);
    return stored === undefined ? undefined : this.decode(stored);
  }

  /** Without a thread_id it lists every thread, shard by shard (see thread-shards.ts). */
  async *list(config: RunnableConfig, options?: ListOptions): AsyncGenerator<CheckpointTuple> {
    const threadId: unknown = config.configurable?.thread_id;
    if (threadId !== undefined && typeof threadId !== "string") {
      throw new TriadError("ERR_INVALID_CHECKPOINT_CONFIG", "list: thread_id must be a string");
    }
    const ns: unknown = config.configurable?.checkpoint_ns;
    const threads = threadId ? this.oneThread(threadId) : this.allThreads();
    yield* listTuples(this.serde, config, options, this.candidates(threads, ns));
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions = {},
  ): Promise<RunnableConfig> {
    const split = await splitPut(this.serde, config, checkpoint, metadata, newVersions);
    const { thread_id, checkpoint_ns, checkpoint_id } = split.skeleton;
    await this.storePut(split.skeleton, "", split);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id } };
  }

  /** Versions unique to each step (channel-values.ts), so forks never share a stored value. */
  override getNextVersion(current: number | undefined): number {
    return nextVersion(current);
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
      const stored = await this.readCheckpoint(threadId, ns, "head");
      if (stored === undefined) continue;
      out.push(await this.wholePut(stored), ...groupWrites(stored.put, stored.writes));
    }
    return out;
  }

  /**
   * Fences the thread for `fencingToken`: older tokens can no longer write. False when a newer
   * one already holds it. With `ttlMs`, the fence of a thread that has stored nothing yet (the
   * task of a retried attempt may not be a graph at all) expires after that long; the thread's
   * first put keeps it for as long as the thread.
   */
  async fenceThread(threadId: string, fencingToken: number, ttlMs?: number): Promise<boolean> {
    if (ttlMs !== undefined) checkTtlMs(ttlMs, "fenceThread's ttlMs");
    const reply = await this.#client.runScript(
      scripts.raiseFence,
      [keys.fenceKey(threadId), keys.threadsKeyOf(threadId)],
      [checkToken(fencingToken), threadId, ttlMs === undefined ? "" : ttlMs],
    );
    return reply === 1;
  }

  /**
   * Gives a thread kept without a time to live one now (ms): every key of it expires then, as
   * does its entry in the thread index. For a thread whose task is done. False when the thread
   * is unknown or expires already — or, with `fencedOnly`, has no fence (a distributor fences
   * the threads it stores for tasks; a program's own saver does not).
   */
  async expireThread(threadId: string, ttlMs: number, fencedOnly = false): Promise<boolean> {
    checkTtlMs(ttlMs, "expireThread's ttlMs");
    const reply = await this.#client.runScript(
      scripts.expireThread,
      [keys.threadsKeyOf(threadId), keys.namespacesKey(threadId), keys.fenceKey(threadId)],
      [threadId, ttlMs, fencedOnly ? "fenced" : ""],
    );
    return reply === 1;
  }

  /** The threads kept without a time to live (their index entry says "never"), shard by shard. */
  async *threadsKeptForever(): AsyncGenerator<string[]> {
    for (let shard = 0; shard < CHECKPOINT_SHARDS; shard++) {
      const index = await this.readFields(keys.threadsKey(shard));
      const ids: string[] = [];
      for (const [id, expires] of index) if (expires === "0") ids.push(id);
      if (ids.length > 0) yield ids;
    }
  }

  /** Deletes every checkpoint, write and the fence of the thread, in one step. */
  async deleteThread(threadId: string): Promise<void> {
    await this.#client.runScript(
      scripts.deleteThread,
      [keys.threadsKeyOf(threadId), keys.namespacesKey(threadId), keys.fenceKey(threadId)],
      [threadId],
    );
  }

  /** A transfer is stored whole; a put() split, with the values its step changed. */
  private async storePut(t: CheckpointPutTransfer, token: string, split?: SplitPut): Promise<boolean> {
    const meta: IndexEntry = { parent_checkpoint_id: t.parent_checkpoint_id, metadata: t.metadata };
    const reply = await this.#client.runScript(
      scripts.putCheckpoint,
      [
        keys.threadsKeyOf(t.thread_id),
        keys.fenceKey(t.thread_id),
        keys.namespacesKey(t.thread_id),
        keys.indexKey(t.thread_id, t.checkpoint_ns),
        keys.headKey(t.thread_id, t.checkpoint_ns),
        keys.checkpointKey(t.thread_id, t.checkpoint_ns, t.checkpoint_id),
        keys.valuesKey(t.thread_id, t.checkpoint_ns),
      ],
      [
        token,
        this.#ttl,
        keys.namespaceMember(t.checkpoint_ns),
        t.checkpoint_id,
        JSON.stringify(t.checkpoint),
        JSON.stringify(meta),
        t.thread_id,
        split?.channels ?? "",
        ...(split?.blobs.flat() ?? []),
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

  private async namespaces(threadId: string): Promise<string[]> {
    const members = (await this.#client.runScript(
      scripts.readNamespaces,
      [keys.namespacesKey(threadId)],
      [],
    )) as string[];
    return members.map(keys.namespaceOfMember);
  }

  private async readFields(key: string): Promise<Map<string, string>> {
    return pairs((await this.#client.runScript(scripts.readHash, [key], [])) as string[]);
  }

  private async readCheckpoint(
    threadId: string,
    ns: string,
    pick: Pick,
  ): Promise<StoredCheckpoint | undefined> {
    const reply = (await this.#client.runScript(
      scripts.readCheckpoint,
      [keys.indexKey(threadId, ns)],
      typeof pick === "string" ? [pick, ""] : ["id", pick.id],
    )) as ReadCheckpointReply | null;
    return reply === null ? undefined : storedCheckpoint(threadId, ns, reply);
  }

  private async decode({ put, writes, values }: StoredCheckpoint): Promise<CheckpointTuple> {
    const tuple = await decodeTuple(this.serde, put, writes);
    if (values !== undefined) await restoreValues(this.serde, tuple.checkpoint, values);
    if (needsPendingSends(tuple.checkpoint, put.parent_checkpoint_id)) {
      const parent = await this.readFields(
        keys.checkpointKey(put.thread_id, put.checkpoint_ns, put.parent_checkpoint_id),
      );
      await migratePendingSends(this.serde, tuple.checkpoint, writesOf(parent), () =>
        this.getNextVersion(undefined),
      );
    }
    return tuple;
  }

  private async *oneThread(threadId: string): AsyncGenerator<ThreadNamespaces> {
    yield { threadId, namespaces: await this.namespaces(threadId) };
  }

  /** The transfer form of a stored checkpoint, its values put back when it was stored split. */
  private async wholePut(stored: StoredCheckpoint): Promise<CheckpointPutTransfer> {
    if (stored.values === undefined) return stored.put;
    const { checkpoint, metadata } = await this.decode({ ...stored, writes: [] });
    const { thread_id, checkpoint_ns, parent_checkpoint_id } = stored.put;
    const parent = parent_checkpoint_id === null ? {} : { checkpoint_id: parent_checkpoint_id };
    return encodePut(
      this.serde,
      { configurable: { thread_id, checkpoint_ns, ...parent } },
      checkpoint,
      metadata!,
    );
  }

  /** Every thread with checkpoints, shard by shard; threads whose time to live ran out are forgotten. */
  private async *allThreads(): AsyncGenerator<ThreadNamespaces> {
    for (let shard = 0; shard < CHECKPOINT_SHARDS; shard++) {
      const index = await this.readFields(keys.threadsKey(shard));
      const expired: string[] = [];
      for (const [threadId, expires] of [...index].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const namespaces = await this.namespaces(threadId);
        if (namespaces.length > 0) yield { threadId, namespaces };
        else if (expires !== "0") expired.push(threadId);
      }
      if (expired.length > 0)
        await this.#client.runScript(scripts.forgetThreads, [keys.threadsKey(shard)], expired);
    }
  }

  private async *candidates(
    threads: AsyncIterable<ThreadNamespaces>,
    ns: unknown,
  ): AsyncGenerator<ListCandidate> {
    for await (const { threadId, namespaces } of threads) {
      const spaces = typeof ns === "string" ? namespaces.filter((n) => n === ns) : namespaces.sort();
      for (const space of spaces) {
        const index = await this.readFields(keys.indexKey(threadId, space));
        const entries = [...index].map(([checkpointId, json]) => ({
          checkpointId,
          metadata: (JSON.parse(json) as IndexEntry).metadata,
          load: async () => {
            const stored = await this.readCheckpoint(threadId, space, { id: checkpointId });
            return stored === undefined ? undefined : this.decode(stored);
          },
        }));
        yield* entries.sort(byIdDescending);
      }
    }
  }
}

/** A time to live in ms as fenceThread and expireThread take it: a positive integer (ERR_INVALID_TTL). */
function checkTtlMs(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms) || ms < 1) {
    throw new TriadError("ERR_INVALID_TTL", `${what} must be a positive integer (got ${ms})`);
  }
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
