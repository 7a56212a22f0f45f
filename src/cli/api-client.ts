import { TriadError } from "../core/errors.js";

/**
 * How long a coordinator that is not the last one left to try has to start its answer before
 * the request goes to the next (a frozen process still takes connections; it never answers).
 * The last one left gets the request's whole timeout. As a distributor passes one over.
 */
export const PASS_OVER_MS = 2_000;

/**
 * Why a fetch failed, its cause named: undici says only "fetch failed" and keeps the reason in
 * `cause` ("fetch failed: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:7799)").
 */
export function fetchFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: unknown })?.cause as
    | { code?: unknown; message?: unknown; errors?: Array<{ code?: unknown; message?: unknown }> }
    | undefined;
  if (cause === undefined || cause === null || typeof cause !== "object") return message;
  const first = cause.errors?.[0];
  const code =
    typeof cause.code === "string" ? cause.code : typeof first?.code === "string" ? first.code : "";
  const detail =
    typeof cause.message === "string" && cause.message !== ""
      ? cause.message
      : typeof first?.message === "string"
        ? first.message
        : "";
  if (code === "" && detail === "") return message;
  if (code === "") return `${message}: ${detail}`;
  return `${message}: ${code}${detail !== "" && detail !== code ? ` (${detail})` : ""}`;
}

/**
 * A small client of the coordinator's REST API for the submit and status commands. `baseUrl`
 * may list several coordinators of one store, comma-separated: when one does not answer (no
 * connection, or no answer begun within PASS_OVER_MS), the same request goes to the next, which
 * stays current.
 */
export class ApiClient {
  private readonly urls: string[];
  private current = 0;

  constructor(
    baseUrl: string,
    private readonly token = process.env.TRIAD_API_TOKEN,
  ) {
    this.urls = baseUrl
      .split(",")
      .map((u) => u.trim())
      .filter((u) => u.length > 0);
    if (this.urls.length === 0) this.urls.push(baseUrl);
  }

  /** The coordinator the next request goes to first. */
  get baseUrl(): string {
    return this.urls[this.current]!;
  }

  /**
   * One request; a 503 that says when to come back (Retry-After: the store unavailable) is sent
   * again after that wait, for up to `retryForMs`. Only for requests that may be repeated: a
   * read, a cancel, or tasks that carry their ids (an id already recorded is not recorded twice).
   * `answersWithinMs`: how long a coordinator may take to begin its answer before the next is
   * tried (PASS_OVER_MS; a long poll, answered when its wait is over, gives its own).
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
    retryForMs = 30_000,
    answersWithinMs = PASS_OVER_MS,
  ): Promise<T> {
    const deadline = performance.now() + retryForMs;
    for (;;) {
      try {
        return await this.once<T>(method, path, body, timeoutMs, answersWithinMs);
      } catch (err) {
        const after = (err as { retryAfterS?: number }).retryAfterS;
        if (after === undefined || performance.now() + after * 1000 > deadline) throw err;
        await new Promise((r) => setTimeout(r, after * 1000));
      }
    }
  }

  private async once<T>(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    answersWithinMs: number,
  ): Promise<T> {
    const res = await this.fetchAny(method, path, body, timeoutMs, answersWithinMs);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } })?.error;
      const failure = new Error(
        `${method} ${path}: ${res.status} ${err?.code ?? ""} ${err?.message ?? text}`.trim(),
      );
      const after = Number(res.headers.get("retry-after") ?? Number.NaN);
      if (res.status === 503 && Number.isFinite(after) && after >= 0)
        Object.assign(failure, { retryAfterS: after });
      throw failure;
    }
    return parsed as T;
  }

  /** The response of the first coordinator that answers, trying each once from the current one. */
  private async fetchAny(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    answersWithinMs: number,
  ): Promise<Response> {
    const failures: string[] = [];
    for (let k = 0; k < this.urls.length; k++) {
      const i = (this.current + k) % this.urls.length;
      const last = k === this.urls.length - 1;
      // Until its answer begins, one that is not the last left has answersWithinMs; then the rest.
      const begun = new AbortController();
      const passOver = last ? undefined : setTimeout(() => begun.abort(), answersWithinMs);
      try {
        const res = await fetch(new URL(path, this.urls[i]), {
          method,
          headers: {
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), begun.signal]),
        });
        this.current = i;
        return res;
      } catch (err) {
        const why = begun.signal.aborted ? `no answer within ${answersWithinMs} ms` : fetchFailure(err);
        failures.push(`${this.urls[i]}: ${why}`);
      } finally {
        clearTimeout(passOver);
      }
    }
    // With a code, as the CLI's other failures: its line ends [ERR_COORDINATOR_UNREACHABLE].
    if (this.urls.length === 1)
      throw new TriadError(UNREACHABLE, `cannot reach the coordinator at ${failures[0]}`, { failures });
    throw new TriadError(UNREACHABLE, `cannot reach any coordinator (${failures.join("; ")})`, { failures });
  }
}

/** No coordinator of the list answered (refused, timed out, not found): nothing was done there. */
const UNREACHABLE = "ERR_COORDINATOR_UNREACHABLE";
