/**
 * `triad status --task ID --follow`: follows GET /tasks/:id/events and prints one line per
 * change until the task ends. When the stream breaks (the coordinator restarted, or went away
 * and another of the list answers), it reconnects with Last-Event-ID, so nothing is printed
 * twice and the end is never missed. Exit status: 0 completed, 1 failed or abandoned.
 */

import { fetchFailure } from "./api-client.js";

type TaskEvent = { type: string; task: Record<string, unknown> };

const RECONNECT_MS = 1000;
/** Gives up after this long without any coordinator answering. */
const GIVE_UP_MS = 60_000;

export async function followTask(
  urls: string[],
  taskId: string,
  options: { json: boolean; token?: string | undefined; out?: (line: string) => void },
): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  let lastId: string | null = null;
  let last: TaskEvent | null = null;
  let current = 0;
  let unreachableSince: number | null = null;
  for (;;) {
    const url = new URL(`/tasks/${encodeURIComponent(taskId)}/events`, urls[current]!);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          accept: "text/event-stream",
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(lastId !== null ? { "last-event-id": lastId } : {}),
        },
      });
    } catch (err) {
      unreachableSince ??= performance.now();
      if (performance.now() - unreachableSince > GIVE_UP_MS)
        throw new Error(`cannot reach a coordinator to follow task ${taskId}: ${fetchFailure(err)}`);
      current = (current + 1) % urls.length;
      // The next coordinator of the list at once; a pause once every one was tried.
      if (current === 0) await new Promise((r) => setTimeout(r, RECONNECT_MS));
      continue;
    }
    unreachableSince = null;
    if (res.status === 204) return exitCode(last);
    if (!res.ok || res.body === null) {
      const body = (await res.json().catch(() => null)) as {
        error?: { code?: string; message?: string };
      } | null;
      throw new Error(
        `GET ${url.pathname}: ${res.status} ${body?.error?.code ?? ""} ${body?.error?.message ?? ""}`.trim(),
      );
    }
    try {
      for await (const { id, event } of events(res.body)) {
        lastId = id || lastId;
        last = event;
        out(options.json ? JSON.stringify({ id, ...event }) : describe(event));
        if (event.type === "terminal") return exitCode(event);
      }
    } catch {
      // The stream broke: reconnect below, where it left off.
    }
    await new Promise((r) => setTimeout(r, RECONNECT_MS));
  }
}

function exitCode(event: TaskEvent | null): number {
  return event?.task.status === "completed" ? 0 : 1;
}

/** One line per event: the time, what changed, the status, and what is new. */
function describe(event: TaskEvent): string {
  const t = event.task;
  const parts = [new Date().toISOString(), event.type.padEnd(13), String(t.status)];
  if (event.type === "attempt" || event.type === "snapshot")
    parts.push(`attempt ${t.attempts} on ${t.assigned_to ?? "-"}`);
  if (t.progress !== undefined) parts.push(`progress ${JSON.stringify(t.progress)}`);
  if (event.type === "input_request") parts.push(`asks ${JSON.stringify(t.input_request ?? null)}`);
  if (event.type === "terminal")
    parts.push(t.status === "completed" ? `result ${JSON.stringify(t.result)}` : `error ${String(t.error)}`);
  return parts.join("  ");
}

/** The events of a text/event-stream body, as they come. */
async function* events(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id: string; event: TaskEvent }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = "";
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("id:")) id = line.slice(3).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) yield { id, event: JSON.parse(data.join("\n")) as TaskEvent };
      end = buffer.indexOf("\n\n");
    }
  }
}
