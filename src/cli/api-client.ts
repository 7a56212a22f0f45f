/** A small client of the coordinator's REST API for the submit and status commands. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token = process.env.TRIAD_API_TOKEN,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
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
      throw new Error(`${method} ${path}: ${res.status} ${err?.code ?? ""} ${err?.message ?? text}`.trim());
    }
    return parsed as T;
  }
}
