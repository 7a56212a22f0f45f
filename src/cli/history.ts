import { closeSync, openSync, writeSync } from "node:fs";
import type { A2AClient } from "../core/messaging/index.js";
import type { FlagSpec } from "./options.js";

/**
 * An opt-in record of what one process did, for checking a run afterwards (the chaos suite's
 * history checker): one JSON line per operation — {op, task_id, fence, agent, t, ...} — appended
 * with a write(2) each, so a line is in the file the moment it is recorded and survives a kill -9
 * of this process. `t` is epoch milliseconds with sub-millisecond precision: comparable between
 * processes of one host only, which is all a checker on one host needs. Nothing is recorded, and
 * nothing costs, unless --history is given.
 */
export const historyFlag: FlagSpec = {
  name: "history",
  type: "string",
  description: "append a JSON line per operation to FILE (for the chaos suite's checker)",
  env: "TRIAD_HISTORY_FILE",
};

export type HistoryOp = { op: string } & Record<string, unknown>;

export class HistoryRecorder {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStats = "";

  constructor(
    path: string,
    private readonly agent: string,
  ) {
    this.fd = openSync(path, "a");
    this.record({ op: "started", pid: process.pid });
  }

  record(op: HistoryOp): void {
    if (this.fd === undefined) return;
    const t = Math.round((performance.timeOrigin + performance.now()) * 100) / 100;
    try {
      writeSync(this.fd, `${JSON.stringify({ ...op, agent: this.agent, t })}\n`);
    } catch {
      // A full disk must not stop the agent; the history is evidence, not state.
    }
  }

  /** Records every message the agent refuses, and its counters every `everyMs` (when they change). */
  watch(a2a: A2AClient, counters: () => Record<string, unknown>, everyMs: number): void {
    a2a.onRejected((event) => this.record({ op: "refused", reason: event.reason, detail: event.detail }));
    this.timer = setInterval(() => this.snapshot(a2a, counters), everyMs);
    this.timer.unref();
  }

  private snapshot(a2a: A2AClient, counters: () => Record<string, unknown>): void {
    const { accepted, duplicates, rejected } = a2a.stats();
    const stats = { a2a: { accepted, duplicates, rejected }, ...counters() };
    const text = JSON.stringify(stats);
    if (text === this.lastStats) return;
    this.lastStats = text;
    this.record({ op: "stats", ...stats });
  }

  close(a2a?: A2AClient, counters?: () => Record<string, unknown>): void {
    clearInterval(this.timer);
    if (a2a && counters) this.snapshot(a2a, counters);
    this.record({ op: "stopped" });
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function openHistory(path: unknown, agent: string): HistoryRecorder | undefined {
  return typeof path === "string" && path.length > 0 ? new HistoryRecorder(path, agent) : undefined;
}
