import { Counter, type Registry } from "prom-client";

/**
 * Where a surface counts a request it answered: a counter by labels. Every label takes its values
 * from a small fixed set (a route of the API, a status, a method the protocol names), never from
 * what a client sent as such: a client cannot grow it.
 */
export type RequestCounter<L extends string> = { inc(labels: Record<L, string>): void };

/** The REST API's requests by route and HTTP status; the A2A gateway's by method, HTTP status and JSON-RPC error code. */
export type HttpRequestCounters = {
  rest: RequestCounter<"route" | "status">;
  a2a: RequestCounter<"method" | "status" | "code">;
};

/** triad_http_requests_total and triad_a2a_requests_total on `registry`, for the surfaces to count into. */
export function registerRequestMetrics(registry: Registry): HttpRequestCounters {
  return {
    rest: new Counter({
      name: "triad_http_requests_total",
      help: 'Requests the REST API answered, by route (as in /openapi.json, e.g. "GET /tasks/{task_id}"; "other" for a path it does not serve) and HTTP status',
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
    a2a: new Counter({
      name: "triad_a2a_requests_total",
      help: 'JSON-RPC requests the A2A gateway answered, by method ("unknown" for one A2A does not name), HTTP status and JSON-RPC error code ("" when none)',
      labelNames: ["method", "status", "code"] as const,
      registers: [registry],
    }),
  };
}
