/** What POST /tasks answered: its status, its Retry-After header (or null) and its JSON body. */
export type PostAnswer<T> = { status: number; retryAfter: string | null; body: T };

/** POSTs `body` as JSON to `<baseUrl>/tasks` (no token) and reads the whole answer. */
export async function postTasks<T>(baseUrl: string, body: unknown): Promise<PostAnswer<T>> {
  const res = await fetch(`${baseUrl}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as T };
}
