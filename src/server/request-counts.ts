import { Counter, type Registry } from "prom-client";

/**
 * Requests a coordinator's HTTP surface answered, counted by labels for /metrics to read at
 * scrape time. Every label takes its values from a small fixed set (a route of the API, a status,
 * a method the protocol names), never from what a client sent as such: a client cannot grow it.
 */
export class RequestCounts<L extends string> {
  private readonly byKey = new Map<string, { labels: Record<L, string>; count: number }>();

  constructor(readonly labelNames: readonly L[]) {}

  add(labels: Record<L, string>): void {
    const key = this.labelNames.map((name) => labels[name]).join("\u0000");
    const entry = this.byKey.get(key);
    if (entry === undefined) this.byKey.set(key, { labels, count: 1 });
    else entry.count++;
  }

  entries(): IterableIterator<{ labels: Record<L, string>; count: number }> {
    return this.byKey.values();
  }
}

/** The REST API's requests by route and HTTP status; the A2A gateway's by method, HTTP status and JSON-RPC error code. */
export type HttpRequestCounts = {
  rest: RequestCounts<"route" | "status">;
  a2a: RequestCounts<"method" | "status" | "code">;
};

export function httpRequestCounts(): HttpRequestCounts {
  return {
    rest: new RequestCounts(["route", "status"]),
    a2a: new RequestCounts(["method", "status", "code"]),
  };
}

/** triad_http_requests_total and triad_a2a_requests_total, read from `counts` at scrape time. */
export function registerRequestMetrics(registry: Registry, counts: HttpRequestCounts): void {
  const counter = <L extends string>(name: string, help: string, from: RequestCounts<L>) =>
    new Counter({
      name,
      help,
      labelNames: from.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, count } of from.entries()) this.inc(labels, count);
      },
    });
  counter(
    "triad_http_requests_total",
    'Requests the REST API answered, by route (as in /openapi.json, e.g. "GET /tasks/{task_id}"; "other" for a path it does not serve) and HTTP status',
    counts.rest,
  );
  counter(
    "triad_a2a_requests_total",
    'JSON-RPC requests the A2A gateway answered, by method ("unknown" for one A2A does not name), HTTP status and JSON-RPC error code ("" when none)',
    counts.a2a,
  );
}
