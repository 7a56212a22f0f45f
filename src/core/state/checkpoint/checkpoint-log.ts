import { replacesExisting, type StoredWrite, storedWrites, writeSlot } from "./codec.js";
import type { CheckpointPutTransfer, CheckpointWritesTransfer } from "./transfer.js";

/** One checkpoint as the log keeps it: its transfer record and its pending writes by slot. */
export type LoggedCheckpoint = { put: CheckpointPutTransfer | undefined; writes: Map<string, StoredWrite> };

type Namespace = { byId: Map<string, LoggedCheckpoint>; head: string | undefined };

/**
 * Checkpoints kept in memory in their transfer form, for the RelayCheckpointSaver. Per thread
 * and namespace it keeps the newest `retain` checkpoints; older ones live in the distributor's
 * store, and a running graph only reads its newest. "Newest" is arrival order, not id order:
 * ids come from the clock of whichever host wrote them.
 */
export class CheckpointLog {
  readonly #threads = new Map<string, Map<string, Namespace>>();

  constructor(readonly retain: number) {}

  addPut(put: CheckpointPutTransfer): void {
    const space = this.space(put.thread_id, put.checkpoint_ns, true)!;
    const entry = this.entry(space, put.checkpoint_id);
    entry.put = put;
    // Re-insert so the Map's order is arrival order and eviction drops the oldest first.
    space.byId.delete(put.checkpoint_id);
    space.byId.set(put.checkpoint_id, entry);
    space.head = put.checkpoint_id;
    this.evict(space);
  }

  addWrites(record: CheckpointWritesTransfer): void {
    const space = this.space(record.thread_id, record.checkpoint_ns, true)!;
    const entry = this.entry(space, record.checkpoint_id);
    for (const write of storedWrites(record)) {
      const slot = writeSlot(write);
      if (replacesExisting(write.idx) || !entry.writes.has(slot)) entry.writes.set(slot, write);
    }
    this.evict(space);
  }

  /** The checkpoint with this id, or the newest one when `checkpointId` is undefined. */
  get(threadId: string, ns: string, checkpointId?: string): LoggedCheckpoint | undefined {
    const space = this.space(threadId, ns, false);
    if (space === undefined) return undefined;
    const id = checkpointId ?? space.head;
    const entry = id === undefined ? undefined : space.byId.get(id);
    return entry?.put === undefined ? undefined : entry;
  }

  threadIds(): string[] {
    return [...this.#threads.keys()];
  }

  namespaces(threadId: string): string[] {
    return [...(this.#threads.get(threadId)?.keys() ?? [])];
  }

  /** The stored checkpoints of one namespace (those with a put), in arrival order. */
  checkpoints(threadId: string, ns: string): LoggedCheckpoint[] {
    const space = this.space(threadId, ns, false);
    return [...(space?.byId.values() ?? [])].filter((e) => e.put !== undefined);
  }

  deleteThread(threadId: string): void {
    this.#threads.delete(threadId);
  }

  private space(threadId: string, ns: string, create: boolean): Namespace | undefined {
    let thread = this.#threads.get(threadId);
    if (thread === undefined) {
      if (!create) return undefined;
      thread = new Map();
      this.#threads.set(threadId, thread);
    }
    let space = thread.get(ns);
    if (space === undefined && create) {
      space = { byId: new Map(), head: undefined };
      thread.set(ns, space);
    }
    return space;
  }

  /** Drops the oldest checkpoints beyond `retain`, never the head. */
  private evict(space: Namespace): void {
    for (const id of space.byId.keys()) {
      if (space.byId.size <= this.retain) return;
      if (id !== space.head) space.byId.delete(id);
    }
  }

  private entry(space: Namespace, checkpointId: string): LoggedCheckpoint {
    let entry = space.byId.get(checkpointId);
    if (entry === undefined) {
      // Writes may arrive for a checkpoint this log never saw (it was evicted, or is elsewhere).
      entry = { put: undefined, writes: new Map() };
      space.byId.set(checkpointId, entry);
    }
    return entry;
  }
}
