import { isTerminalStatus } from "../../core/state/status.js";
import { timerDelay } from "../../core/timers.js";
import type { TaskLedger, TaskRecord } from "../ledger/task-ledger.js";
import type { TaskDict } from "../protocol.js";
import type { Timing } from "../timing.js";

/**
 * One caller of waitForTask, also its own item in the deadline heap. `resolve` is dropped once
 * it is answered: an answered waiter can stay in the heap until its deadline, and must not keep
 * its promise (and through it the task dict it was answered with) alive until then.
 */
type Waiter = { taskId: string; deadline: number; resolve: ((task: TaskDict | null) => void) | null };
/** `touched`: when the entry was created, or last handed out by due(). */
type Entry = { waiters: Waiter[]; touched: number; checked: boolean };

/**
 * Callers of waitForTask, by task id. Their deadlines share one timer (armed for the earliest
 * deadline, over a heap), so a million waiters cost no million timers. Entries are kept in
 * the order they were last checked, so `due()` hands out the longest-unchecked first.
 */
export class TaskWaiters {
  private readonly entries = new Map<string, Entry>();
  private heap: Waiter[] = [];
  private live = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.entries.size;
  }

  has(taskId: string): boolean {
    return this.entries.has(taskId);
  }

  /** Resolves with the task once `resolve(taskId, ...)` is called, or null after `timeoutMs`. */
  wait(taskId: string, timeoutMs: number): Promise<TaskDict | null> {
    return new Promise((resolve) => {
      const now = performance.now();
      const waiter: Waiter = { taskId, deadline: now + timeoutMs, resolve };
      let entry = this.entries.get(taskId);
      if (entry === undefined) {
        entry = { waiters: [], touched: now, checked: false };
        this.entries.set(taskId, entry);
      }
      entry.waiters.push(waiter);
      this.push(waiter);
    });
  }

  /** Hands `task` to everyone waiting for it. */
  resolve(taskId: string, task: TaskDict): void {
    const entry = this.entries.get(taskId);
    if (entry === undefined) return;
    this.entries.delete(taskId);
    for (const w of entry.waiters) this.settle(w, task);
  }

  /**
   * Up to `max` task ids whose waiters have waited `firstAfterMs` and were not checked in the
   * last `everyMs`; they count as checked now.
   */
  due(now: number, firstAfterMs: number, everyMs: number, max: number): string[] {
    const out: string[] = [];
    const least = Math.min(firstAfterMs, everyMs);
    for (const [taskId, entry] of this.entries) {
      if (out.length >= max) break;
      const age = now - entry.touched;
      if (age < least) break; // entries are in the order they were touched: the rest are younger
      if (age >= (entry.checked ? everyMs : firstAfterMs)) out.push(taskId);
    }
    for (const taskId of out) {
      const entry = this.entries.get(taskId)!;
      entry.touched = now;
      entry.checked = true;
      this.entries.delete(taskId);
      this.entries.set(taskId, entry);
    }
    return out;
  }

  /** Answers null to everyone and stops the timer. */
  closeAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    for (const entry of this.entries.values()) for (const w of entry.waiters) this.settle(w, null);
    this.entries.clear();
    this.heap = [];
    this.live = 0;
  }

  private settle(waiter: Waiter, task: TaskDict | null): void {
    const resolve = waiter.resolve;
    if (resolve === null) return;
    waiter.resolve = null;
    this.live--;
    resolve(task);
  }

  private expire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) {
      const waiter = this.pop();
      if (waiter.resolve === null) continue;
      const entry = this.entries.get(waiter.taskId);
      if (entry !== undefined) {
        entry.waiters = entry.waiters.filter((w) => w !== waiter);
        if (entry.waiters.length === 0) this.entries.delete(waiter.taskId);
      }
      this.settle(waiter, null);
    }
    this.compact();
    this.arm();
  }

  private arm(): void {
    const next = this.heap[0];
    if (next === undefined || next.deadline >= this.armedFor) return;
    clearTimeout(this.timer);
    this.armedFor = next.deadline;
    this.timer = setTimeout(() => this.expire(), timerDelay(next.deadline - performance.now()));
  }

  /** Waiters answered before their deadline stay in the heap until it passes; drop them when they pile up. */
  private compact(): void {
    if (this.heap.length < 1024 || this.heap.length < 2 * this.live) return;
    const kept = this.heap.filter((w) => w.resolve !== null);
    this.heap = [];
    for (const item of kept) this.push(item, false);
  }

  private push(item: Waiter, counts = true): void {
    if (counts) this.live++;
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.deadline <= item.deadline) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
    if (counts) {
      if (this.heap.length > 4096 && this.heap.length > 4 * this.live) this.compact();
      this.arm();
    }
  }

  private pop(): Waiter {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r]!.deadline < heap[l]!.deadline ? r : l;
      if (heap[c]!.deadline >= last.deadline) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}

/** Waiters whose task the ledger is asked about per monitor tick at most. */
const CATCH_UP_PER_TICK = 500;

/**
 * Waiters whose news may have been lost ask the ledger themselves (a bounded number per tick):
 * a task's status first, its record only once that says it ended (under a backlog nearly
 * every waiter that has waited long is still open, and the status is the cheaper read).
 */
export async function catchUpWaiters(
  now: number,
  o: {
    waiters: TaskWaiters;
    ledger: TaskLedger;
    timing: Timing;
    alone: () => boolean;
    finished: (record: TaskRecord, firstHand: boolean) => void;
  },
): Promise<void> {
  const t = o.timing;
  const due = o.waiters.due(now, 2 * t.heartbeatIntervalMs, t.heartbeatTimeoutMs, CATCH_UP_PER_TICK);
  const statuses = await Promise.all(due.map((id) => o.ledger.status(id)));
  const ended = due.filter((_, i) => isTerminalStatus(statuses[i] ?? ""));
  const records = await Promise.all(ended.map((id) => o.ledger.get(id)));
  // Alone since it started, a report was lost: this is the first word of the end; else another may have counted it.
  const here = o.alone();
  for (const record of records) if (record && isTerminalStatus(record.task.status)) o.finished(record, here);
}
