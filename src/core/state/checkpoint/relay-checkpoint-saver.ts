import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type Checkpoint,
  type CheckpointMetadata,
  type CheckpointTuple,
} from "@langchain/langgraph/web";
import { TriadError } from "../../errors.js";
import { CheckpointLog } from "./checkpoint-log.js";
import {
  addressOf,
  type ChannelVersions,
  decodeTuple,
  encodePut,
  encodeWrites,
  type ListOptions,
  type PendingWrite,
  type Serde,
} from "./codec.js";
import { byIdDescending, type ListCandidate, listTuples } from "./list-tuples.js";
import { type CheckpointTransfer, parseCheckpointTransfer } from "./transfer.js";

/** Receives every checkpoint and every batch of writes, in order; the put waits for it. */
export type CheckpointSink = (transfer: CheckpointTransfer) => void | Promise<void>;

export type RelayCheckpointSaverOptions = {
  sink: CheckpointSink;
  /** Transfers to resume from (StoreCheckpointSaver.exportThread on the distributor). Validated. */
  seed?: readonly unknown[];
  /** Checkpoints kept in memory per thread and namespace; default 8. */
  retain?: number;
  serde?: Serde;
  /**
   * Largest transfer (its JSON, in bytes) handed to the sink: a larger one fails the put with
   * ERR_CHECKPOINT_TOO_LARGE, kept nowhere. A worker sets it from its message limit, so that a
   * checkpoint too large for a message to the distributor over HTTP is refused the same in one
   * process (the router has no limit). Default: none.
   */
  maxBytes?: number;
};

const DEFAULT_RETAIN = 8;

/**
 * The checkpointer of a worker, which has no Redis. It keeps the running task's checkpoints in
 * memory and hands each put and putWrites, as a CheckpointTransfer, to `sink`, which sends it
 * to the distributor (who stores it with a StoreCheckpointSaver). When the task is reassigned
 * after its worker died, the new worker's relay is seeded with the distributor's export, so the
 * graph resumes from the last checkpoint that reached the distributor.
 *
 * put() waits for the sink: under durability "sync" (what runGraphTask uses) a step starts only
 * once the previous step's checkpoint has been handed over. A sink that throws fails the put.
 */
export class RelayCheckpointSaver extends BaseCheckpointSaver {
  readonly #log: CheckpointLog;
  readonly #sink: CheckpointSink;
  readonly #maxBytes: number | undefined;

  constructor(options: RelayCheckpointSaverOptions) {
    super(options.serde);
    if (typeof options?.sink !== "function") {
      throw new TriadError("ERR_INVALID_ARGUMENT", "RelayCheckpointSaver needs a sink function");
    }
    const retain = options.retain ?? DEFAULT_RETAIN;
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new TriadError("ERR_INVALID_ARGUMENT", `retain must be a positive integer (got ${retain})`);
    }
    if (options.maxBytes !== undefined && !(Number.isSafeInteger(options.maxBytes) && options.maxBytes > 0)) {
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `maxBytes must be a positive integer (got ${options.maxBytes})`,
      );
    }
    this.#maxBytes = options.maxBytes;
    this.#sink = options.sink;
    this.#log = new CheckpointLog(retain);
    if (options.seed !== undefined) this.seed(options.seed);
  }

  /** Loads checkpoints without forwarding them (they came from the sink's other end). */
  seed(transfers: readonly unknown[]): void {
    const parsed = transfers.map(parseCheckpointTransfer);
    // Puts first: a namespace's newest checkpoint is its last put, and writes attach to theirs.
    for (const t of parsed) if (t.kind === "checkpoint") this.#log.addPut(t);
    for (const t of parsed) if (t.kind === "writes") this.#log.addWrites(t);
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    if (config.configurable?.thread_id === undefined) return undefined;
    const { threadId, ns, checkpointId } = addressOf(config, "getTuple");
    const entry = this.#log.get(threadId, ns, checkpointId);
    if (entry?.put === undefined) return undefined;
    return decodeTuple(this.serde, entry.put, entry.writes.values());
  }

  async *list(config: RunnableConfig, options?: ListOptions): AsyncGenerator<CheckpointTuple> {
    const threadId = config.configurable?.thread_id;
    const ns = config.configurable?.checkpoint_ns;
    const threads = typeof threadId === "string" ? [threadId] : this.#log.threadIds();
    const serde = this.serde;
    const log = this.#log;
    function* candidates(): Generator<ListCandidate> {
      for (const t of threads) {
        for (const space of typeof ns === "string" ? [ns] : log.namespaces(t)) {
          const entries = log.checkpoints(t, space).map((e) => ({
            checkpointId: e.put!.checkpoint_id,
            metadata: e.put!.metadata,
            load: () => decodeTuple(serde, e.put!, e.writes.values()),
          }));
          yield* entries.sort(byIdDescending);
        }
      }
    }
    yield* listTuples(serde, config, options, candidates());
  }

  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    _newVersions?: ChannelVersions,
  ): Promise<RunnableConfig> {
    const transfer = await encodePut(this.serde, config, checkpoint, metadata);
    this.checkSize(transfer);
    this.#log.addPut(transfer);
    await this.#sink(transfer);
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
    const transfer = await encodeWrites(this.serde, config, writes, taskId, taskPath);
    this.checkSize(transfer);
    this.#log.addWrites(transfer);
    await this.#sink(transfer);
  }

  /**
   * Refuses a transfer over maxBytes. Not retryable: the graph resumes from its last checkpoint
   * and its step makes the same state again.
   */
  private checkSize(transfer: CheckpointTransfer): void {
    if (this.#maxBytes === undefined) return;
    const bytes = Buffer.byteLength(JSON.stringify(transfer));
    if (bytes <= this.#maxBytes) return;
    const what = transfer.kind === "checkpoint" ? "a checkpoint" : "a checkpoint's pending writes";
    throw new TriadError(
      "ERR_CHECKPOINT_TOO_LARGE",
      `${what} of thread ${transfer.thread_id} is ${bytes} bytes, over the limit of ${this.#maxBytes} (ERR_CHECKPOINT_TOO_LARGE: the graph's state must fit in a message to the distributor)`,
      { retryable: false, bytes, limit: this.#maxBytes },
    );
  }

  /** Forgets the thread here (the distributor's copy is the distributor's to delete). */
  async deleteThread(threadId: string): Promise<void> {
    this.#log.deleteThread(threadId);
  }
}
