/** The events of a GET /tasks/:id/events stream, in order, until it ends (the server ends it after the terminal event). */
export async function streamedEvents(
  res: Response,
): Promise<Array<{ type: string; task: Record<string, unknown> }>> {
  const text = await res.text();
  const events: Array<{ type: string; task: Record<string, unknown> }> = [];
  for (const frame of text.split("\n\n")) {
    const data = frame
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => l.slice(6));
    if (data.length > 0) events.push(JSON.parse(data.join("\n")));
  }
  return events;
}

/** `promise`, or a failure naming `what` once `ms` pass first (a bound, not a speed check). */
export function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}
