import { TriadError } from "../../core/errors.js";
import { assertJson, type JsonValue } from "../../core/json.js";
import { StoreCheckpointSaver } from "../../core/state/checkpoint/store-checkpoint-saver.js";
import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { depthProblem } from "../payload-depth.js";
import type { TaskDict } from "../protocol.js";
import { InputLedger } from "./input-ledger.js";

export type InputKeeperOptions = {
  store: RedisClient;
  ledger: TaskLedger;
  /** A task given input is pending on no distributor: place it (any distributor, any worker). */
  place: (task: TaskDict) => void;
  /** A task whose wait ran out ended abandoned: tell waiters. */
  ended: (task: TaskDict) => void;
};

/** The wake-up runs at most this often, however short the monitor tick (one call per shard on Redis Cluster). */
const EXPIRE_EVERY_MS = 1000;

/** Of a message's body limit, what a task's record may not take: the message's envelope and the dict's JSON around the record's fields. */
const ENVELOPE_BYTES = 8 * 1024;

/** What provideInput answers: given, or why not (unknown task, or not waiting for input), and the task after. */
export type InputAnswer =
  | { given: true; task: TaskDict }
  | { given: false; reason: "unknown" }
  | { given: false; reason: "not_waiting"; task: TaskDict };

/**
 * The coordinator's side of human input (SPEC "Waiting for input"). A waiting task is in the
 * ledger only: no worker, no distributor, no timer here. Giving input is one fenced script (the
 * first answer to a request wins); the task is then placed like a new one. Waits that run out
 * are found by one wake-up per monitor tick over each shard's sorted set of deadlines.
 */
export class InputKeeper {
  private readonly inputs: InputLedger;
  /** Tasks waiting for input in the whole store, as the last wake-up counted them. */
  waiting = 0;
  /** Inputs given through this coordinator (each one a request answered). */
  given = 0;
  private lastWakeUp = Number.NEGATIVE_INFINITY;
  /** The most bytes a task's record may hold (a message must carry it to a distributor); null: no limit. */
  private maxRecordBytes: number | null = null;

  /** The graph checkpoints the distributors store (read here for their size only). */
  private readonly checkpoints: StoreCheckpointSaver;

  constructor(private readonly o: InputKeeperOptions) {
    this.inputs = new InputLedger(o.store, o.ledger);
    this.checkpoints = new StoreCheckpointSaver(o.store);
  }

  /**
   * Tasks go to distributors in messages of at most `bodyBytes` (another process's HTTP body
   * limit): an input that would make its task larger than a message can carry is refused
   * (ERR_INPUT_TOO_LARGE), and the task keeps waiting, instead of being taken and the task then
   * abandoned as one that cannot be sent. A graph task's next attempt also carries its stored
   * checkpoint to its worker (in a message of the same limit): its bytes count too.
   */
  limitTaskSize(bodyBytes: number): void {
    this.maxRecordBytes = Math.max(0, bodyBytes - ENVELOPE_BYTES);
  }

  /** Gives input; with `question` (see InputLedger.provide) only if the task still asks that one. */
  async provide(taskId: string, value: JsonValue, question?: number): Promise<InputAnswer> {
    checkInput(value);
    if (question !== undefined && !(Number.isSafeInteger(question) && question >= 0)) {
      throw new TriadError("ERR_INVALID_INPUT", `question must be an integer >= 0 (got ${question})`, {
        status: 422,
      });
    }
    // The checkpoint cannot change while the task waits (no attempt runs, the thread is fenced).
    const checkpointBytes = this.maxRecordBytes === null ? 0 : await this.checkpointBytes(taskId);
    const maxBytes =
      this.maxRecordBytes === null ? undefined : Math.max(0, this.maxRecordBytes - checkpointBytes);
    const verdict = await this.inputs.provide(taskId, value, question, maxBytes);
    if (!verdict.given && "tooLarge" in verdict) {
      const withCheckpoint =
        checkpointBytes > 0 ? ` with its graph checkpoint (${checkpointBytes} bytes)` : "";
      throw new TriadError(
        "ERR_INPUT_TOO_LARGE",
        `the input would make task ${taskId} ${verdict.tooLarge + checkpointBytes} bytes${withCheckpoint}, over the ${this.maxRecordBytes} a task may take to be sent; it was not given, and the task still waits for input`,
        { status: 413 },
      );
    }
    if (!verdict.given && verdict.status === null) return { given: false, reason: "unknown" };
    // Given, the task is pending on no distributor and only this call will place it: a read that
    // fails now (a store blip) is tried again rather than leaving it unplaced until a restore.
    const record = verdict.given
      ? await readAgain(() => this.o.ledger.get(taskId))
      : await this.o.ledger.get(taskId);
    if (record === null) return { given: false, reason: "unknown" };
    if (!verdict.given) return { given: false, reason: "not_waiting", task: record.task };
    this.given++;
    // Pending on no distributor, unless someone placed it already in between.
    if (record.task.status === "pending" && record.distributor === null) this.o.place(record.task);
    return { given: true, task: record.task };
  }

  /** The bytes of the checkpoint a graph task's next attempt carries to its worker (0: none stored). */
  private async checkpointBytes(taskId: string): Promise<number> {
    const transfers = await this.checkpoints.exportThread(taskId);
    return transfers.length === 0 ? 0 : Buffer.byteLength(JSON.stringify(transfers));
  }

  /** One wake-up (at most once a second): ends the tasks whose wait for input ran out (abandoned, with the reason). */
  async tick(): Promise<number> {
    const now = performance.now();
    if (now - this.lastWakeUp < EXPIRE_EVERY_MS) return 0;
    this.lastWakeUp = now;
    const { expired, waiting } = await this.inputs.expire();
    this.waiting = waiting;
    const records = await Promise.all(expired.map((id) => this.o.ledger.get(id)));
    // Ended by expire-inputs' own script, outside the ledger's calls: its observer (the
    // history) is told here, as of the due sweep's expiries.
    for (const [k, id] of expired.entries())
      this.o.ledger.told({ op: "abandoned", task_id: id, reason: records[k]?.task.error ?? "" });
    for (const record of records) if (record !== null) this.o.ended(record.task);
    return expired.length;
  }
}

async function readAgain<T>(read: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

/** Input is JSON a task could carry: refused at the edge (ERR_INVALID_INPUT) otherwise. */
function checkInput(value: JsonValue): void {
  if (value === undefined) {
    throw new TriadError("ERR_INVALID_INPUT", "input needs a value (any JSON)", { status: 422 });
  }
  // The depth first: its walk does not recurse, and a task must be able to carry the value.
  const problem = depthProblem(value, "the input");
  if (problem !== null) throw new TriadError("ERR_INVALID_INPUT", problem, { status: 422 });
  try {
    assertJson(value, "the input");
  } catch (err) {
    throw new TriadError("ERR_INVALID_INPUT", (err as Error).message, { status: 422 });
  }
}
