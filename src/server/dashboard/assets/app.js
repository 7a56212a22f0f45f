// The Triad dashboard: one page, no dependencies, served by the coordinator itself. It follows
// GET /events (server-sent events, read with fetch so the API token travels in a header, never
// in a URL) and shows the task page of #/tasks/<id> from GET /tasks/<id>/history, kept live by
// the task's own GET /tasks/<id>/events while it is open (polling if that stream fails).

import { api, authHeaders, ensureToken, readEvents, refuseToken, setTokenRequired } from "./api.js";
import { renderCharts } from "./charts.js";
import { pollControls } from "./controls.js";
import { $, currentTaskId, h, sleep } from "./dom.js";
import { fmtMs, fmtTime } from "./format.js";
import { follow } from "./live.js";
import { renderOverview } from "./overview.js";
import { workflowCard } from "./workflow.js";

// --- the task page --------------------------------------------------------------------------

const EVENT_TEXT = {
  submitted: (e) => ["Submitted", e.task_type ? `type ${e.task_type}` : ""],
  assigned: (e) => [`Assigned to ${e.distributor}`, e.request_id ? `assign_tasks ${e.request_id}` : ""],
  reassigned: (e) => [
    "Reassigned",
    `${e.distributor} was declared dead${e.attempt ? ` (attempt ${e.attempt}${e.worker ? ` on ${e.worker}` : ""} ended with it)` : ""}; the task is placed again`,
  ],
  started: (e) => [`Started on ${e.worker ?? "a worker"}`, `attempt ${e.attempt} (as the ledger records it)`],
  retried: (e) => [`Attempt ${e.attempt} failed; retried`, `${e.worker ? `on ${e.worker}: ` : ""}${e.error}`],
  committed: (e) => [
    e.reason === "not_retryable" ? `Committed: ${e.status}, not retryable` : `Committed: ${e.status}`,
    [
      e.reason === "not_retryable" && "the handler said another try cannot help: no retry",
      e.distributor && `by ${e.distributor}`,
      e.request_id && `task_terminal ${e.request_id}`,
      e.error,
    ]
      .filter(Boolean)
      .join(" · "),
  ],
  abandoned: (e) => ["Abandoned", e.reason ?? e.error ?? ""],
  input_given: (e) => ["Input given", e.input ?? ""],
};

let taskTimer;
/** The task dict the page shows (what a stream event is compared with). */
let shownTask = null;

async function showTask(id) {
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
  $("#input-form")?.addEventListener("submit", (event) =>
    giveInput(event, id, view.task?.inputs?.length ?? 0),
  );
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

/** A task not finished yet: its page follows it, and it may be canceled. */
const isOpen = (task) =>
  task.status === "pending" || task.status === "in_progress" || task.status === "input_required";

/**
 * The input form's value: JSON when the text parses as JSON ({"ok": true}, 42, "quoted"),
 * else the text itself as a string (yes). POST /tasks/<id>/input, then the page again.
 */
async function giveInput(event, id, question) {
  event.preventDefault();
  const text = $("#input-value").value;
  const button = $("#input-form button");
  $("#input-error")?.remove();
  const refuse = (message) => $("#input-form").append(h("p", { class: "error", id: "input-error" }, message));
  // A click on an empty box is not an answer: sent, "" would resume the task (an approval
  // graph's edited draft, empty). An empty string is sent as "" typed in.
  if (text.trim() === "") {
    refuse('Nothing to send: type the answer first ("" sends an empty string).');
    return;
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  button.disabled = true;
  try {
    await ensureToken();
    const res = await fetch(`/tasks/${encodeURIComponent(id)}/input`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      // The question this page shows: refused (409) if someone else answered it meanwhile.
      body: JSON.stringify({ value, question }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    }
  } catch (err) {
    button.disabled = false;
    refuse(err.message);
    return;
  }
  clearTimeout(taskTimer);
  await showTask(id);
}

/** What a task waiting for input asks, and the form that answers; the inputs given so far. */
function inputCard(t) {
  const asking = t.status === "input_required";
  return h(
    "section",
    { class: "card", id: "input-card" },
    h("h2", {}, asking ? "Waiting for input" : "Inputs given"),
    asking ? h("pre", { id: "input-request" }, JSON.stringify(t.input_request ?? null, null, 2)) : null,
    t.inputs?.length
      ? h("ol", { id: "inputs-given" }, ...t.inputs.map((v) => h("li", { class: "mono" }, JSON.stringify(v))))
      : null,
    asking
      ? h(
          "form",
          { id: "input-form" },
          h("textarea", {
            id: "input-value",
            rows: "3",
            placeholder: 'The answer: JSON ({"approve": true}, 42, "text") or plain text',
            "aria-label": "input value",
          }),
          h("button", { type: "submit" }, "Send input"),
        )
      : null,
  );
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

function taskPage(id, view, graph) {
  const t = view.task ?? {};
  const taskLink = (other) => h("a", { href: `#/tasks/${encodeURIComponent(other)}`, class: "mono" }, other);
  const links = (ids) =>
    ids?.length ? ids.flatMap((other, i) => [i > 0 ? ", " : null, taskLink(other)]) : null;
  const start = view.timeline.length ? Date.parse(view.timeline[0].at) : Number.NaN;
  const fact = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, value ?? "–"));
  const duration =
    t.completed_at && t.created_at ? Date.parse(t.completed_at) - Date.parse(t.created_at) : null;
  return [
    h(
      "div",
      { class: "task-head" },
      h("h1", { class: "mono" }, id),
      h("span", { class: "status", dataset: { status: t.status ?? "unknown" } }, t.status ?? "unknown"),
      isOpen(t) ? h("button", { type: "button", id: "cancel-task", class: "danger" }, "Cancel task") : null,
    ),
    h(
      "section",
      { class: "card" },
      h(
        "dl",
        { class: "facts" },
        fact("Type", t.task_type),
        fact("Attempts", t.attempts === undefined ? null : String(t.attempts)),
        fact("Worker", t.assigned_to),
        fact("Distributor", view.record?.distributor ?? null),
        fact("Created", fmtTime(t.created_at)),
        fact("Started", fmtTime(t.started_at)),
        fact("Completed", fmtTime(t.completed_at)),
        fact("Created → completed", duration === null ? null : fmtMs(duration)),
        fact("Fencing token", view.record ? String(view.record.fence) : null),
        fact("Retries allowed", view.record ? String(view.record.max_retries) : null),
        fact("Trace id", view.trace_id ? h("span", { class: "mono" }, view.trace_id) : "not traced"),
        t.depends_on ? fact("Depends on", h("span", { id: "depends-on" }, ...links(t.depends_on))) : null,
        t.depends_on
          ? fact(
              "Waits on",
              h(
                "span",
                { id: "waiting-on" },
                ...(links(t.waiting_on) ?? ["nothing: every dependency has ended"]),
              ),
            )
          : null,
        t.on_dependency_failure ? fact("If a dependency fails", t.on_dependency_failure) : null,
        t.parent_id ? fact("Spawned by", taskLink(t.parent_id)) : null,
        fact("Priority", h("span", { id: "priority" }, String(t.priority ?? 0))),
        t.run_at ? fact("Runs at", h("span", { id: "run-at" }, fmtTime(t.run_at))) : null,
        t.expires_at ? fact("Expires at", h("span", { id: "expires-at" }, fmtTime(t.expires_at))) : null,
      ),
    ),
    t.status === "input_required" || t.inputs?.length ? inputCard(t) : null,
    graph && graph.nodes.length > 1 ? workflowCard(id, graph) : null,
    h(
      "div",
      { class: "task-grid" },
      h(
        "section",
        { class: "card" },
        h("h2", {}, "History"),
        h(
          "ol",
          { class: "timeline", id: "timeline" },
          ...view.timeline.map((e) => {
            const [what, detail] = (EVENT_TEXT[e.event] ?? ((x) => [x.event, ""]))(e);
            const offset = Date.parse(e.at) - start;
            return h(
              "li",
              { dataset: { event: e.event }, class: e.status === "failed" ? "failed" : null },
              h("span", { class: "what" }, what),
              h("span", { class: "when" }, `${fmtTime(e.at)}${offset > 0 ? ` (+${fmtMs(offset)})` : ""}`),
              detail ? h("div", { class: "detail" }, detail) : null,
            );
          }),
        ),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Messages behind it ", h("span", { class: "muted" }, "request_id ← parent_request_id")),
        view.chain.length === 0
          ? h("p", { class: "muted" }, "No messages recorded for this task (yet).")
          : h(
              "table",
              { class: "chain", id: "chain" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", {}, "#"),
                  h("th", {}, "Message"),
                  h("th", {}, "From → to"),
                  h("th", {}, "request_id"),
                  h("th", {}, "Caused by"),
                ),
              ),
              h(
                "tbody",
                {},
                ...view.chain.map((link, i) =>
                  h(
                    "tr",
                    { dataset: { kind: link.kind } },
                    h("td", { class: "num" }, String(i + 1)),
                    h("td", { class: "kind" }, link.kind),
                    h("td", {}, `${link.from ?? "?"} → ${link.to ?? "?"}`),
                    h("td", { class: "mono" }, link.request_id ?? "(unknown)"),
                    h("td", { class: "mono muted" }, link.parent_request_id ?? "—"),
                  ),
                ),
              ),
            ),
      ),
      t.progress !== undefined ? progressCard(t.progress) : null,
      h(
        "section",
        { class: "card" },
        h("h2", {}, t.error ? "Error" : "Result"),
        h("pre", { class: t.error ? "error" : null }, t.error ?? JSON.stringify(t.result ?? null, null, 2)),
      ),
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Payload"),
        h("pre", {}, JSON.stringify(t.payload ?? {}, null, 2)),
      ),
    ),
  ];
}

/**
 * The handler's latest ctx.progress value (replaced as the task's event stream reports a new
 * one, so it moves live): a bar when the value says how far of how much ({ done, total },
 * { slept_ms, of_ms } of the built-in sleep, a fraction 0..1), and the value itself.
 */
function progressCard(value) {
  const share = progressShare(value);
  return h(
    "section",
    { class: "card", id: "progress-card" },
    h("h2", {}, "Progress"),
    share === null
      ? null
      : h("progress", { id: "progress-bar", max: "1", value: String(share) }, `${Math.round(share * 100)}%`),
    h("pre", { id: "progress" }, JSON.stringify(value, null, 2)),
  );
}

function progressShare(v) {
  if (typeof v === "number") return v >= 0 && v <= 1 ? v : null;
  if (v === null || typeof v !== "object") return null;
  const pairs = [
    ["done", "total"],
    ["slept_ms", "of_ms"],
  ];
  for (const [done, total] of pairs)
    if (typeof v[done] === "number" && typeof v[total] === "number" && v[total] > 0)
      return Math.min(1, Math.max(0, v[done] / v[total]));
  return null;
}

// --- routing --------------------------------------------------------------------------------

function route() {
  const id = currentTaskId();
  if (id !== null) return void showTask(id);
  clearTimeout(taskTimer);
  stopTaskStream();
  $("#task-page").hidden = true;
  $("#overview").hidden = false;
  renderOverview(true);
}

async function start() {
  $("#lookup").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#lookup-id").value.trim();
    if (id) location.hash = `#/tasks/${encodeURIComponent(id)}`;
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => {
    renderCharts();
    $("#workflow")?.redraw?.();
  });
  try {
    const config = await (await fetch("/dashboard/config", { cache: "no-store" })).json();
    setTokenRequired(Boolean(config.token_required));
  } catch {
    setTokenRequired(false); // older coordinator: a 401 will ask
  }
  route();
  void follow();
  void pollControls();
}

void start();
