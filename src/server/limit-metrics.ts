import { Gauge, type Registry } from "prom-client";
import type { LimitView } from "../agents/limits/limit-spec.js";

/**
 * triad_limit_in_use and triad_limit_waiting per limited task type, read from the store at
 * scrape time (one read serves both gauges of a scrape).
 */
export function registerLimitMetrics(registry: Registry, list: () => Promise<LimitView[]>): void {
  let reading: Promise<LimitView[]> | null = null;
  const read = () => {
    reading ??= list()
      .catch(() => [])
      .finally(() => setTimeout(() => (reading = null), 100).unref());
    return reading;
  };
  const gauge = (name: string, help: string, value: (l: LimitView) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["task_type"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const l of await read()) this.set({ task_type: l.task_type }, value(l));
      },
    });
  gauge(
    "triad_limit_in_use",
    "Attempts of a limited task type holding a slot, over the whole cluster",
    (l) => l.in_use,
  );
  gauge(
    "triad_limit_waiting",
    "Tasks of a limited task type waiting for a slot, over the whole cluster",
    (l) => l.waiting,
  );
}
