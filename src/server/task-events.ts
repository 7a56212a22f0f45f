import type { IncomingMessage, ServerResponse } from "node:http";
import { changeType, eventIdOf, isTerminal, type TaskWatch } from "../agents/live/task-changes.js";
import type { TaskDict } from "../agents/protocol.js";
import { sendError, sendJson, startEventStream } from "./http-util.js";

/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** What the client's EventSource waits before it reconnects (the SSE `retry:` field). */
const RETRY_MS = 1000;
/** Streams open at once per coordinator at most; beyond, 503 with Retry-After (bounded everything). */
export const MAX_EVENT_STREAMS = 1000;
/** A client with this much unsent is too slow to follow: its stream ends, and it resumes by Last-Event-ID. */
const MAX_UNSENT_BYTES = 1 << 20;

/**
 * GET /tasks/:id/events — Server-Sent Events of every change of one task: one `data:` line of
 * JSON `{ type, task }` per change (see TaskChangeType), each with an `id:` derived from the
 * task's state (eventIdOf), ending after the terminal event. A client that reconnects with
 * `Last-Event-ID` (an EventSource does so by itself) is sent nothing until the task changes if
 * that id is still its state, else the task as it is now; reconnecting after the terminal
 * event is answered 204, which tells an EventSource to stop. 404 for an unknown task.
 */
export async function streamTaskEvents(
  req: IncomingMessage,
  res: ServerResponse,
  watch: TaskWatch,
  taskId: string,
): Promise<void> {
  const lastEventId = headerOf(req, "last-event-id");
  if (watch.streams >= MAX_EVENT_STREAMS) {
    return sendJson(
      res,
      503,
      {
        error: {
          code: "ERR_TOO_MANY_STREAMS",
          message: `this coordinator serves ${MAX_EVENT_STREAMS} event streams at most; try again later or another coordinator`,
        },
      },
      { "retry-after": "5" },
    );
  }
  // The stream's place is taken before the read: opened together, streams all passed the check
  // above before any of them counted (1,005 opened at once were all served).
  watch.streams++;
  let first: TaskDict | null;
  try {
    first = await watch.read(taskId);
  } catch (err) {
    watch.streams--;
    throw err;
  }
  const noStream = first === null || (isTerminal(first) && lastEventId === eventIdOf(first));
  if (noStream || req.method === "HEAD") watch.streams--;
  if (first === null) return sendError(res, 404, "ERR_NOT_FOUND", `no task ${taskId}`);
  if (noStream) {
    res.writeHead(204, { "cache-control": "no-store" });
    res.end();
    return;
  }
  startEventStream(res, RETRY_MS);
  // HEAD: the stream's head, and no stream to hold open.
  if (req.method === "HEAD") return void res.end();

  let last: TaskDict | null = null;
  let lastId = lastEventId;
  let ended = false;
  let unwatch = () => {};
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS).unref();
  const end = () => {
    if (ended) return;
    ended = true;
    watch.streams--;
    clearInterval(keepalive);
    unwatch();
    res.end();
  };
  const onTask = (task: TaskDict | null) => {
    if (ended) return;
    if (task === null) return end(); // its record expired: there is nothing more to say
    const id = eventIdOf(task);
    if (id !== lastId) {
      const type = changeType(last, task);
      if (type !== null) res.write(`id: ${id}\ndata: ${JSON.stringify({ type, task })}\n\n`);
      // Too slow to follow: the stream ends here and the client resumes from this event.
      if (res.writableLength > MAX_UNSENT_BYTES) return end();
      lastId = id;
    }
    last = task;
    if (isTerminal(task)) end();
  };
  req.on("close", end);
  res.on("close", end);
  onTask(first);
  if (!ended) unwatch = watch.watch(taskId, onTask);
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" && value.length > 0 ? value : null;
}
