// The task page's cards: its facts, history, messages, progress, result and payload.

import { h } from "./dom.js";
import { fmtMs, fmtTime } from "./format.js";
import { inputCard } from "./input.js";
import { workflowCard } from "./workflow.js";

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

/** A task not finished yet: its page follows it, and it may be canceled. */
export const isOpen = (task) =>
  task.status === "pending" || task.status === "in_progress" || task.status === "input_required";

export function taskPage(id, view, graph) {
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
export function progressCard(value) {
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
