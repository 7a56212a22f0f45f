import { collectDefaultMetrics, Registry } from "prom-client";

let processMetrics: Registry | undefined;

/**
 * Registers the process's own metrics (CPU, memory, handles, event-loop lag, GC durations:
 * prom-client's defaults, `triad_`-prefixed) in `registry`. They are made once per process and
 * shared by every registry: prom-client starts monitors for them (a GC PerformanceObserver, an
 * event-loop delay histogram) that nothing can stop, and a GC observer made per registry kept
 * that registry, and whatever its collectors read (the coordinator), for the rest of the process.
 */
export function registerProcessMetrics(registry: Registry): void {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, prefix: "triad_" });
  }
  for (const { name } of processMetrics.getMetricsAsArray()) {
    const metric = processMetrics.getSingleMetric(name);
    if (metric) registry.registerMetric(metric);
  }
}
