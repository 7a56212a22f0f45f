/** A small client of the coordinator's REST API for the submit and status commands. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token = process.env.TRIAD_API_TOKEN,
  ) {}

  /**
   * One request; a 503 that says when to come back (Retry-After: the store unavailable) is sent
   * again after that wait, for up to `retryForMs`. Only for requests that may be repeated: a
   * read, a cancel, or tasks that carry their ids (an id already recorded is not recorded twice).
   */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 30_000,
    retryForMs = 30_000,
  ): Promise<T> {
    const deadline = performance.now() + retryForMs;
    for (;;) {
      try {
        return await this.once<T>(method, path, body, timeoutMs);
      } catch (err) {
        const after = (err as { retryAfterS?: number }).retryAfterS;
        if (after === undefined || performance.now() + after * 1000 > deadline) throw err;
        await new Promise((r) => setTimeout(r, after * 1000));
      }
    }
  }

  private async once<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new Error(`cannot reach the coordinator at ${this.baseUrl}: ${(err as Error).message}`);
    }
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
}
