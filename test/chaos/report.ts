import { writeFileSync } from "node:fs";
import type { CheckResult } from "../helpers/history/checker.js";

/** One line of the chaos table (docs/RELIABILITY.md): what a scenario did and what the checker found. */
export type ChaosRow = {
  scenario: string;
  /** Tasks the system accepted. */
  tasks: number;
  faults: number;
  /** What the faults were, briefly. */
  faultKinds: string;
  lost: number;
  doubleCommits: number;
  staleCommits: number;
  staleRejected: number;
  /** Fault -> declared dead, ms, one per detected fault. */
  detectionMs: number[];
  /** Fault -> task moved off the failed agent, ms, one per task in flight there. */
  reassignmentMs: number[];
  executions: number;
  violations: number;
  seconds: number;
};

export type Mode = "short" | "long";

export const MODE: Mode = process.env.CHAOS_LONG === "1" ? "long" : "short";

/** The row of a scenario, from its checker result. */
export function rowOf(
  scenario: string,
  result: CheckResult,
  extra: { faults?: number; faultKinds: string; startedAt: number },
): ChaosRow {
  const s = result.stats;
  return {
    scenario,
    tasks: s.accepted,
    faults: s.faults + (extra.faults ?? 0),
    faultKinds: extra.faultKinds,
    lost: s.lost,
    doubleCommits: s.doubleCommits,
    staleCommits: s.staleCommits,
    staleRejected: s.staleRejected,
    detectionMs: s.timings.flatMap((t) => (t.detectionMs === null ? [] : [t.detectionMs])),
    reassignmentMs: s.timings.flatMap((t) => t.reassignmentMs),
    executions: s.executions,
    violations: result.violations.length,
    seconds: (performance.now() - extra.startedAt) / 1000,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: number[]): string {
  if (values.length === 0) return "–";
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `${s(median(values))} / ${s(Math.max(...values))}`;
}

/** The rows as a Markdown table. */
export function formatTable(rows: ChaosRow[]): string {
  const head = [
    "Scenario",
    "Tasks",
    "Faults injected",
    "Lost",
    "Double commits",
    "Stale results rejected",
    "Detection (median / max)",
    "Reassignment (median / max)",
    "Handler runs",
  ];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.tasks),
    `${r.faults} (${r.faultKinds})`,
    String(r.lost),
    String(r.doubleCommits),
    String(r.staleRejected),
    spread(r.detectionMs),
    spread(r.reassignmentMs),
    String(r.executions),
  ]);
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [row(head), row(head.map(() => "---")), ...lines.map(row)].join("\n");
}

/** Prints the table, and writes it (with the raw rows) where CHAOS_REPORT says. */
export function publish(rows: ChaosRow[], mode: Mode): string {
  const table = formatTable(rows);
  const text = `Chaos suite, ${mode} run, ${new Date().toISOString()}\n\n${table}\n`;
  process.stdout.write(`\n${text}\n`);
  const out = process.env.CHAOS_REPORT;
  if (out) writeFileSync(out, `${text}\n<!-- rows\n${JSON.stringify(rows, null, 1)}\n-->\n`);
  return table;
}
