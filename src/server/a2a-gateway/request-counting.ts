import type { RequestHandler } from "express";
import type { RequestCounter } from "../request-counts.js";
import { A2A_METHODS, rpcErrorOf } from "./jsonrpc-envelope.js";

/**
 * Counts each request to the JSON-RPC endpoint once it is over (answered, or its connection
 * closed): by method (a method A2A names, else "unknown"), HTTP status and the JSON-RPC error
 * code noted by `noteRpcError` ("" when the answer was a result).
 */
export function countRequests(counts: RequestCounter<"method" | "status" | "code">): RequestHandler {
  return (req, res, next) => {
    res.once("close", () => {
      const method = (req.body as { method?: unknown } | undefined)?.method;
      const code = rpcErrorOf(res);
      counts.inc({
        method: typeof method === "string" && A2A_METHODS.has(method) ? method : "unknown",
        status: String(res.statusCode),
        code: code === undefined ? "" : String(code),
      });
    });
    next();
  };
}
