// The task page of #/tasks/<id>: loaded from GET /tasks/<id>/history, kept live by the task's
// own event stream while it is open (polling if that stream fails).

import { api, authHeaders, ensureToken, readEvents, refuseToken } from "./api.js";
import { $, currentTaskId, h, sleep } from "./dom.js";
import { fmtTime } from "./format.js";
import { giveInput } from "./input.js";
import { isOpen, progressCard, taskPage } from "./task-cards.js";

let taskTimer;
/** The task dict the page shows (what a stream event is compared with). */
let shownTask = null;

export async function showTask(id) {
  clearTimeout(taskTimer);
  if (taskStream && taskStream.id !== id) stopTaskStream();
  $("#overview").hidden = true;
  $("#task-page").hidden = false;
  const body = $("#task-body");
  if (body.dataset.task !== id) {
    body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    delete body.dataset.shown;
  }
  body.dataset.task = id;
  let view;
  try {
    view = await api(`/tasks/${encodeURIComponent(id)}/history`);
  } catch (err) {
    // A page that shows this task already keeps it (dimmed, saying from when it is, its Cancel
    // button still there): a coordinator out of reach for a while (its event stream given up,
    // the page polling) wiped it, and with it the button someone may be about to click again.
    if (body.dataset.shown === id) taskNotice(body, err);
    else body.replaceChildren(h("p", { class: "error" }, `Cannot show task ${id}: ${err.message}`));
    // Tried again in a second, as an open task is polled: a coordinator too busy to answer (a
    // 503), or a task not known yet, shows itself once it can.
    pollTask(id);
    return;
  }
  taskNotice(body, null);
  body.dataset.shownAt = String(Date.now());
  // The workflow it belongs to (GET /tasks/<id>/graph); a lone task has none to draw.
  const graph = await api(`/tasks/${encodeURIComponent(id)}/graph`).catch(() => null);
  if (currentTaskId() !== id) return;
  // A page waiting for an answer is not drawn again while the question stands: the reload
  // would wipe what someone is typing into the input form.
  const asking = view.task?.status === "input_required" ? `${id}:${view.task.inputs?.length ?? 0}` : "";
  if (asking && body.dataset.asking === asking) {
    shownTask = view.task;
    if (!followTask(id)) pollTask(id);
    return;
  }
  body.dataset.asking = asking;
  shownTask = view.task ?? null;
  // A card the task has no use for is null: left out (replaceChildren would write "null").
  body.replaceChildren(...taskPage(id, view, graph).filter((el) => el !== null));
  body.dataset.shown = id;
  $("#input-form")?.addEventListener("submit", async (event) => {
    if (!(await giveInput(event, id, view.task?.inputs?.length ?? 0))) return;
    clearTimeout(taskTimer);
    await showTask(id);
  });
  $("#cancel-task")?.addEventListener("click", () => cancelTask(id));
  // An open task is followed by its event stream; without one (unknown yet, or the stream
  // failed) the page polls.
  if (view.task && isOpen(view.task) && followTask(id)) return;
  if (!view.task || isOpen(view.task)) pollTask(id);
}

/**
 * Says under the task's heading that the page could not be read again (and, like the live feed's
 * pill, from when what it still shows is), dimming its cards; `err` null clears it.
 */
function taskNotice(body, err) {
  const old = $("#task-error");
  if (err === null) {
    old?.remove();
    body.removeAttribute("data-stale");
    return;
  }
  const at = Number(body.dataset.shownAt);
  const text = `Could not read the task: ${err.message} · shown as of ${fmtTime(new Date(at).toISOString())}`;
  if (old) old.textContent = text;
  else $(".task-head")?.after(h("p", { class: "error", id: "task-error", role: "status" }, text));
  body.toggleAttribute("data-stale", true);
}

function pollTask(id) {
  clearTimeout(taskTimer);
  taskTimer = setTimeout(() => currentTaskId() === id && showTask(id), 1000);
}

// --- a task's own event stream --------------------------------------------------------------

/** Failed connections in a row after which a task page polls instead of streaming. */
const TASK_STREAM_TRIES = 3;
/** The task stream of the page shown: { id, controller, failed, refreshing, again }, or null. */
let taskStream = null;

/**
 * Follows GET /tasks/<id>/events for the task page shown (read with fetch, like GET /events, so
 * the token travels in a header: an EventSource cannot send one). Returns false when this
 * task's stream has failed: the page polls instead.
 */
function followTask(id) {
  if (taskStream?.id === id) return !taskStream.failed;
  stopTaskStream();
  taskStream = { id, controller: new AbortController(), failed: false, refreshing: false, again: false };
  void runTaskStream(taskStream);
  return true;
}

function stopTaskStream() {
  taskStream?.controller.abort();
  taskStream = null;
}

/**
 * One stream, reconnected with Last-Event-ID (the server sends nothing again that the page has
 * seen); ends after the terminal event (a reconnect then would be 204). After
 * TASK_STREAM_TRIES failed connections in a row the page falls back to polling.
 */
async function runTaskStream(stream) {
  const path = `/tasks/${encodeURIComponent(stream.id)}/events`;
  let lastId = null;
  let ended = false;
  let failures = 0;
  while (taskStream === stream && !ended) {
    try {
      await ensureToken();
      const headers = { ...authHeaders(), accept: "text/event-stream" };
      if (lastId) headers["last-event-id"] = lastId;
      const res = await fetch(path, { headers, cache: "no-store", signal: stream.controller.signal });
      if (res.status === 204) return; // the end was seen already
      if (res.status === 401) {
        await refuseToken();
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      let heard = false;
      await readEvents(res.body, (_event, data, id) => {
        heard = true;
        failures = 0;
        if (id) lastId = id;
        if (data?.type === "terminal") ended = true;
        if (data?.task) onTaskEvent(stream, data.task);
      });
      // The server ended it (a restart, a slow reader): resume where it left off at once, unless
      // it said nothing at all (then it counts as a failed try, with its pause).
      if (heard) continue;
    } catch {
      if (stream.controller.signal.aborted) return; // the page left this task
    }
    if (++failures >= TASK_STREAM_TRIES) {
      stream.failed = true;
      if (taskStream === stream && currentTaskId() === stream.id) pollTask(stream.id);
      return;
    }
    await sleep(1000 * failures);
  }
}

/**
 * A change of the task shown: when only its progress moved, the progress card is replaced in
 * place (no request, nothing else redrawn); anything else loads the page again (its history
 * has a new step), at most one load at a time.
 */
function onTaskEvent(stream, task) {
  if (taskStream !== stream || currentTaskId() !== stream.id) return;
  if (shownTask && sameApartFromProgress(shownTask, task)) {
    const card = $("#progress-card");
    if (card && task.progress !== undefined) {
      card.replaceWith(progressCard(task.progress));
      shownTask = task;
      return;
    }
    if (task.progress === undefined) return;
  }
  void refreshTask(stream);
}

async function refreshTask(stream) {
  if (stream.refreshing) {
    stream.again = true;
    return;
  }
  stream.refreshing = true;
  try {
    do {
      stream.again = false;
      await showTask(stream.id);
    } while (stream.again && taskStream === stream && currentTaskId() === stream.id);
  } finally {
    stream.refreshing = false;
  }
}

function sameApartFromProgress(a, b) {
  const { progress: _a, ...restA } = a;
  const { progress: _b, ...restB } = b;
  return canonical(restA) === canonical(restB);
}

/** JSON with object keys sorted: two dicts of one state compare equal whatever their key order. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

/** POST /tasks/<id>/cancel, then the page again (the task now abandoned, or why it was not). */
async function cancelTask(id) {
  const button = $("#cancel-task");
  if (button) button.disabled = true;
  $("#cancel-error")?.remove();
  try {
    await api(`/tasks/${encodeURIComponent(id)}/cancel`, "POST");
  } catch (err) {
    // Said once (the last try's reason), and the button works again: a coordinator that was
    // out of reach may answer the next click.
    if (button) button.disabled = false;
    $(".task-head")?.append(
      h("span", { class: "error", id: "cancel-error" }, `Not canceled: ${err.message}`),
    );
    return;
  }
  clearTimeout(taskTimer);
  await showTask(id);
}

/** The overview is shown: the task page stops polling and following its task. */
export function leaveTask() {
  clearTimeout(taskTimer);
  stopTaskStream();
}
