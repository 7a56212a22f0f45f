import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/messaging/canonical-json.js";
import { isTerminalStatus } from "../../core/state/status.js";
import type { TaskDict } from "../protocol.js";

/**
 * What changed between two looks at a task, most significant first: it ended (`terminal`), it
 * asks for input (`input_request`), a new attempt started (`attempt`), its status moved
 * (`status`), its handler reported (`progress`). Anything else about it (waiting_on shrank,
 * say) is a `status` change too. The first event of a stream is a `snapshot` (or `terminal`).
 */
export type TaskChangeType = "snapshot" | "status" | "attempt" | "progress" | "input_request" | "terminal";

export function isTerminal(task: { status: string }): boolean {
  return isTerminalStatus(task.status);
}

/**
 * The id of a task's state: a digest of its dict as canonical JSON, the same in every process
 * that reads the same record. So a client that reconnects with `Last-Event-ID` — to this
 * coordinator after a restart, or to another one — is sent nothing until the task changes,
 * or at once what changed since; no process has to remember what it sent.
 */
export function eventIdOf(task: TaskDict): string {
  // Without the payload: it never changes for a task id, and it may be large (read 4x a second).
  const { payload: _, ...state } = task;
  return createHash("sha256").update(canonicalJson(state)).digest("base64url").slice(0, 22);
}

/** The kind of change from `prev` to `next` (null: none). */
export function changeType(prev: TaskDict | null, next: TaskDict): TaskChangeType | null {
  if (prev === null) return isTerminal(next) ? "terminal" : "snapshot";
  if (isTerminal(next)) return isTerminal(prev) && eventIdOf(prev) === eventIdOf(next) ? null : "terminal";
  const asks = (t: TaskDict) => (t as { input_request?: unknown }).input_request;
  if (next.status === "input_required" && (prev.status !== next.status || !same(asks(prev), asks(next))))
    return "input_request";
  if (next.status === "in_progress" && next.attempts !== prev.attempts) return "attempt";
  if (next.status !== prev.status) return "status";
  if (!same(prev.progress, next.progress)) return "progress";
  return eventIdOf(prev) === eventIdOf(next) ? null : "status";
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return canonicalJson(a) === canonicalJson(b);
}

export type TaskWatchOptions = {
  /** The task as the store has it now (null: unknown, or its record expired). */
  read: (taskId: string) => Promise<TaskDict | null>;
  /** How often every watched task is read (default 250 ms). */
  intervalMs?: number;
};

type Listener = (task: TaskDict | null) => void;

/**
 * Follows tasks for event streams (GET /tasks/:id/events, A2A streaming). The store is the
 * source, not this process's memory: a change made through any coordinator (several may share
 * one Redis) or any distributor is seen. Every watched task is read once per interval, however
 * many streams follow it, and the reads of one tick go to the store as one script call (the
 * ledger batches them). One timer for all, running only while something is watched. poke()
 * reads a task at once (this coordinator heard that it ended).
 */
export class TaskWatch {
  private readonly listeners = new Map<string, Set<Listener>>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  /** Event streams open on this watch (counted by their server, which bounds them). */
  streams = 0;

  constructor(private readonly o: TaskWatchOptions) {}

  get watched(): number {
    return this.listeners.size;
  }

  read(taskId: string): Promise<TaskDict | null> {
    return this.o.read(taskId);
  }

  /** Calls `listener` with the task at every interval (and on poke) until the returned function is called. */
  watch(taskId: string, listener: Listener): () => void {
    let set = this.listeners.get(taskId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(taskId, set);
    }
    set.add(listener);
    this.timer ??= setInterval(() => void this.tick(), this.o.intervalMs ?? 250).unref();
    return () => {
      const current = this.listeners.get(taskId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(taskId);
      if (this.listeners.size === 0) this.stop();
    };
  }

  poke(taskId: string): void {
    const set = this.listeners.get(taskId);
    if (set === undefined) return;
    this.o.read(taskId).then(
      (task) => this.tell(taskId, task),
      () => {},
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.reading) return; // a slow store: skip a beat rather than pile reads up
    this.reading = true;
    try {
      const ids = [...this.listeners.keys()];
      const tasks = await Promise.allSettled(ids.map((id) => this.o.read(id)));
      tasks.forEach((t, i) => {
        if (t.status === "fulfilled") this.tell(ids[i]!, t.value);
      });
    } finally {
      this.reading = false;
    }
  }

  private tell(taskId: string, task: TaskDict | null): void {
    for (const listener of [...(this.listeners.get(taskId) ?? [])]) {
      try {
        listener(task);
      } catch {
        // One stream's fault is its own.
      }
    }
  }
}
