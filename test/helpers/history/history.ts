import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * One line of a run's history. The agents write theirs with `--history FILE` (src/cli/history.ts;
 * ledger ops come from TaskLedger's observer); the test's client and nemesis write theirs here.
 *
 *   submitted    client      about to POST the task
 *   accepted     client      POST /tasks answered 2xx: the system said yes
 *   submit_failed client     POST failed (network, 5xx): indeterminate, retried with the same id
 *   recorded     coordinator the task was written to Redis (before the coordinator said yes)
 *   assigned     coordinator placed on a distributor (a move, when it was on another)
 *   dispatched   distributor an attempt started on a worker, with its fencing token
 *   executed     worker      a handler returned or threw (execution is at-least-once)
 *   committed    distributor the terminal outcome written, fenced (exactly once)
 *   retried      distributor a failed attempt written back to pending, fenced
 *   rejected     distributor a result refused by its fence (a stale attempt, or a re-delivery)
 *   reassigned   distributor an attempt taken back from a dead worker; its fence retired
 *   abandoned    coordinator ended without running (no distributor could take it)
 *   noticed      coordinator a waiting task told that `dependency` ended with `status` (read
 *                            from its record); `ready` when that was its last one
 *   dead         either      a supervisor declared `target` dead
 *   refused      any         an A2A message refused before any handler saw it, with its reason
 *   stats        any         the process's counters, when they change
 *   fault / heal nemesis     a fault injected into `target`, and its end
 */
export type HistoryEvent = {
  op: string;
  /** Epoch ms with sub-ms precision (performance.timeOrigin + performance.now()). */
  t: number;
  /** Who recorded it: an agent id, "client" or "nemesis". */
  agent: string;
  task_id?: string;
  fence?: number;
  distributor?: string | null;
  worker?: string;
  status?: string;
  reason?: string;
  /** dead / fault / heal: the agent concerned. */
  target?: string;
  /** fault: what was done (kill, pause, restart, ...). */
  kind?: string;
  /** fault: whether a supervisor must declare the target dead (a worker or distributor gone long enough). */
  detect?: boolean;
  [key: string]: unknown;
};

export function now(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 100) / 100;
}

/** Reads what was appended to each history file since the last read. */
export class HistoryTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private readonly events: HistoryEvent[] = [];

  read(dir: string): HistoryEvent[] {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
    } catch {
      return this.events;
    }
    for (const file of files) {
      const path = join(dir, file);
      const from = this.offsets.get(file) ?? 0;
      const size = statSync(path).size;
      if (size <= from) continue;
      const buf = Buffer.alloc(size - from);
      const fd = openSync(path, "r");
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      this.offsets.set(file, size);
      const text = (this.partial.get(file) ?? "") + buf.toString("utf8");
      const lines = text.split("\n");
      this.partial.set(file, lines.pop() ?? "");
      for (const line of lines) {
        if (line.trim() === "") continue;
        try {
          this.events.push(JSON.parse(line) as HistoryEvent);
        } catch {
          // a torn line of a killed process
        }
      }
    }
    return this.events;
  }
}

export function sortHistory(events: HistoryEvent[]): HistoryEvent[] {
  return events
    .map((e, i) => [e, i] as const)
    .sort((a, b) => a[0].t - b[0].t || a[1] - b[1])
    .map(([e]) => e);
}

/** The history as one line per event, for a violation report. */
export function formatEvents(events: HistoryEvent[], origin = events[0]?.t ?? 0): string {
  return events
    .map((e) => {
      const { op, t, agent, ...rest } = e;
      const detail = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      return `  +${(t - origin).toFixed(1).padStart(9)} ms  ${agent.padEnd(12)} ${op.padEnd(13)} ${detail}`;
    })
    .join("\n");
}
