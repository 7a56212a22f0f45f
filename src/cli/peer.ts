import type { Logger } from "../core/logger.js";
import { UsageError } from "./options.js";

/**
 * The agent id behind an A2A URL (GET /a2a). Waits for the peer to come up, so tiers can be
 * started in any order; gives up after `timeoutMs`.
 */
export async function discoverAgentId(baseUrl: string, log: Logger, timeoutMs = 60_000): Promise<string> {
  let url: URL;
  try {
    url = new URL("/a2a", baseUrl);
  } catch {
    throw new UsageError(`"${baseUrl}" is not a URL (expected e.g. http://127.0.0.1:7400)`);
  }
  const deadline = performance.now() + timeoutMs;
  let warned = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) {
        const body = (await res.json()) as { agent_id?: unknown };
        if (typeof body.agent_id === "string") return body.agent_id;
      }
      throw new Error(`GET ${url} answered ${res.status} without an agent id`);
    } catch (err) {
      if (performance.now() > deadline) {
        throw new Error(
          `no Triad agent answered at ${url} within ${timeoutMs} ms: ${(err as Error).message}`,
        );
      }
      if (!warned) {
        log.warn({ url: url.href }, "waiting for the peer to come up");
        warned = true;
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
    }
  }
}

/** The shared A2A secret of a multi-process deployment: from the environment only, never argv. */
export function requireSecret(): string {
  const secret = process.env.TRIAD_SECRET;
  if (!secret) {
    throw new UsageError(
      "TRIAD_SECRET is not set: every process of a deployment signs its messages with this shared secret",
    );
  }
  return secret;
}
