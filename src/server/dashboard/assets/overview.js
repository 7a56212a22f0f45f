// The overview: counts by status, the agents of every tier, recent failures, retries and
// reassignments.

import { renderCharts } from "./charts.js";
import { $, h } from "./dom.js";
import { fmtAge, fmtInt, fmtTime } from "./format.js";
import { state } from "./state.js";

export function renderOverview(listsChanged) {
  if (state.coordinator) $("#coordinator").textContent = `coordinator ${state.coordinator.id}`;
  renderCounts();
  renderAgents();
  if ($("#overview").hidden) return;
  renderCharts();
  if (listsChanged) renderLists();
}

function renderCounts() {
  const counts = state.counts ?? {};
  for (const el of document.querySelectorAll("[data-stat]")) {
    const n = counts[el.dataset.stat];
    const value = el.querySelector(".value");
    if (n === undefined || value.dataset.value === String(n)) continue;
    const changed = value.dataset.value !== undefined;
    value.dataset.value = String(n);
    value.textContent = fmtInt(n);
    value.classList.toggle("zero", n === 0);
    if (changed) {
      el.classList.remove("flash");
      void el.offsetWidth; // restart the animation
      el.classList.add("flash");
    }
  }
}

/** A remote A2A agent a worker bridges: its name, URL and skills, under the worker's id. */
function remoteAgent(r) {
  return h(
    "div",
    { class: "remote-agent", title: `skills: ${r.skills.join(", ") || "none yet"}` },
    `A2A → ${r.name || "(card not read yet)"} `,
    h("span", { class: "remote-url" }, r.url),
    r.skills.length ? ` · ${r.skills.join(", ")}` : "",
  );
}

function renderAgents() {
  const rows = state.agents.map((a) => {
    const dead = a.status === "dead";
    // A worker whose distributor crashed: nobody hears it, which says nothing of its process.
    const unheard = a.status === "unknown";
    // Dead after saying it stops (a graceful stop, a rolling restart): shown as stopped, not as a crash.
    const shown = dead && a.stopped === true ? "stopped" : a.status;
    const late = !dead && !unheard && a.tier !== "coordinator" && a.heartbeat_age_ms > 3000;
    // Running of its capacity (never past it), and what it holds beyond that, waiting for a slot.
    const running = a.running ?? Math.min(a.load, a.capacity ?? 0);
    const queued = a.queued ?? Math.max(0, a.load - running);
    const load = h("span", { class: "bar" }, h("span"));
    const fill = a.capacity ? Math.min(1, running / a.capacity) : 0;
    load.firstChild.style.width = `${Math.round(fill * 100)}%`;
    const waiting = queued > 0 ? ` · ${fmtInt(queued)} queued` : "";
    return h(
      "tr",
      // Dimmed either way (it runs nothing), but a graceful stop is not marked as a crash.
      {
        class: shown === "stopped" ? "stopped" : dead || unheard ? "dead" : null,
        dataset: { tier: a.tier, status: shown, agent: a.id },
      },
      h("td", {}, h("span", { class: "tier" }, a.tier)),
      h(
        "td",
        { class: "agent-id mono" },
        a.id,
        a.shards && state.agents.some((b) => b.tier === "coordinator" && b.id !== a.id)
          ? h("span", { class: "remote-url", title: a.shards.join(", ") }, ` · ${a.shards.length} shards`)
          : "",
        ...(a.remote_agents ?? []).map(remoteAgent),
      ),
      h(
        "td",
        { class: "status-cell" },
        h("span", { class: "status", dataset: { status: shown } }, shown),
        unheard && a.reason === "distributor_dead"
          ? h("span", { class: "status-reason muted" }, " · unreachable (its distributor is dead)")
          : "",
      ),
      h(
        "td",
        { class: `age${late ? " late" : ""}` },
        a.tier !== "coordinator"
          ? fmtAge(a.heartbeat_age_ms)
          : a.id === state.coordinator?.id
            ? "this process"
            : "another coordinator",
      ),
      h(
        "td",
        {},
        a.capacity === undefined
          ? `${fmtInt(queued)} queued`
          : [load, `${fmtInt(running)} / ${fmtInt(a.capacity)}${waiting}`],
      ),
      h("td", { class: "num" }, fmtInt(a.done)),
    );
  });
  $("#agents tbody").replaceChildren(...rows);
  const by = (tier) => state.agents.filter((a) => a.tier === tier);
  const stopped = state.agents.filter((a) => a.status === "dead" && a.stopped === true).length;
  const dead = state.agents.filter((a) => a.status === "dead").length - stopped;
  const unknown = state.agents.filter((a) => a.status === "unknown").length;
  const coordinators = by("coordinator").length;
  const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  $("#agent-summary").textContent =
    (coordinators > 1 ? `${count(coordinators, "coordinator")} · ` : "") +
    `${count(by("distributor").length, "distributor")} · ${count(by("worker").length, "worker")}` +
    (dead ? ` · ${dead} dead` : "") +
    (unknown ? ` · ${unknown} unknown` : "") +
    (stopped ? ` · ${stopped} stopped` : "");
}

function renderLists() {
  const empty = (text) => h("li", { class: "empty" }, text);
  // An id of any length (up to 200 characters, unbroken) on one line, cut short with an ellipsis:
  // the whole of it in the tooltip and on the task page the link opens.
  const taskLink = (id) =>
    h("a", { href: `#/tasks/${encodeURIComponent(id)}`, class: "mono task-id", title: id }, id);
  $("#failures").replaceChildren(
    ...(state.failures.length === 0
      ? [empty("No failures.")]
      : state.failures.map((f) =>
          h(
            "li",
            {},
            taskLink(f.task_id),
            h(
              "span",
              { class: "meta" },
              `${f.task_type} · ${f.status} · attempt ${f.attempts} · ${fmtTime(f.at)}`,
            ),
            h("div", { class: "detail", title: f.error ?? null }, f.error ?? "(no error given)"),
          ),
        )),
  );
  $("#retries").replaceChildren(
    ...(state.retries.length === 0
      ? [empty("No retries.")]
      : state.retries.map((r) =>
          h(
            "li",
            {},
            taskLink(r.task_id),
            h("span", { class: "meta" }, `${r.task_type} · ${r.status} after ${r.attempts} attempts`),
            ...r.errors.map((e) => {
              const text = `attempt ${e.attempt}${e.worker ? ` on ${e.worker}` : ""}: ${e.error}`;
              return h("div", { class: "detail", title: text }, text);
            }),
          ),
        )),
  );
  $("#reassignments").replaceChildren(
    ...(state.reassignments.length === 0
      ? [empty("No reassignments.")]
      : state.reassignments.map((r) =>
          r.kind === "distributor_dead"
            ? h(
                "li",
                {},
                h("strong", {}, `${r.from} declared dead`),
                h("span", { class: "meta" }, `${r.tasks} tasks to move · ${fmtTime(r.at)}`),
              )
            : h(
                "li",
                {},
                taskLink(r.task_id),
                h("span", { class: "meta" }, `moved off ${r.from} · ${fmtTime(r.at)}`),
              ),
        )),
  );
}
