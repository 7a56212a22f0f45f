/** Small statistics for benchmark figures: medians of runs, percentiles of latencies. */

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) by nearest rank; `sorted` ascending. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Latencies recorded into a preallocated array: no allocation per sample on the hot path. */
export class LatencyRecorder {
  private readonly samples: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    if (this.count < this.samples.length) this.samples[this.count++] = ms;
  }

  summary(): { p50: number; p99: number; max: number } {
    const sorted = this.samples.subarray(0, this.count).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: percentile(sorted, 100) };
  }
}

/** One run's figures: throughput end to end and latency from submit to terminal record. */
export type RunFigures = {
  perSecond: number;
  p50: number;
  p99: number;
  /** The slowest task's latency: a stall of a few tasks shows here, not in the percentiles. */
  max?: number;
  n: number;
  seconds: number;
  /** CPU time (user + system) of this process per task, microseconds: steadier than wall time on a busy machine. */
  cpuUs: number;
};

export function summarise(runs: RunFigures[]): RunFigures {
  return {
    perSecond: median(runs.map((r) => r.perSecond)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    n: runs[0]?.n ?? 0,
    seconds: median(runs.map((r) => r.seconds)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
  };
}

/**
 * Each run of `b` against the run of `a` at the same index: pairs run back to back, whose ratio
 * a slow or fast spell of the machine moves less than the ratio of two medians.
 */
export function pairRatios(b: RunFigures[], a: RunFigures[]): number[] {
  return b.map((run, i) => run.perSecond / a[i]!.perSecond);
}

export const fmt = {
  rate: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-"),
  ms: (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "-"),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : "-"),
  /** Pair ratios as "1.06, 0.98, 1.10 (median 1.06x)". */
  pairs: (ratios: number[]) =>
    `${ratios.map((r) => r.toFixed(2)).join(", ")} (median ${fmt.ratio(median(ratios))})`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
};

/** A Markdown table (also readable in a terminal). */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}
