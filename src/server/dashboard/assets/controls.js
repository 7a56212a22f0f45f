// Limits and schedules (GET /limits, GET /schedules, every 2 s on the overview).

import { api } from "./api.js";
import { $, h } from "./dom.js";
import { fmtMs, fmtTime } from "./format.js";

let controlsTimer;

export async function pollControls() {
  clearTimeout(controlsTimer);
  if (!$("#overview").hidden) {
    const [limits, schedules] = await Promise.allSettled([api("/limits"), api("/schedules")]);
    if (limits.status === "fulfilled") renderLimits(limits.value.limits);
    if (schedules.status === "fulfilled")
      renderSchedules(schedules.value.schedules, schedules.value.next_cursor ?? null);
    controlsNotice("limits", limits);
    controlsNotice("schedules", schedules);
  }
  controlsTimer = setTimeout(pollControls, 2000);
}

/** When each table was last read (ms since the epoch), null before the first. */
const controlsReadAt = { limits: null, schedules: null };

/**
 * Says under the Limits or Schedules table that its last read failed (and, like the live feed's
 * pill, from when the rows still shown are), dimming them; cleared by the next read that works.
 */
function controlsNotice(which, result) {
  const table = $(`#${which}`);
  const old = $(`#${which}-error`);
  if (result.status === "fulfilled") {
    controlsReadAt[which] = Date.now();
    old?.remove();
    table.removeAttribute("data-stale");
    return;
  }
  const at = controlsReadAt[which];
  const text = `Could not read ${which}: ${result.reason?.message ?? result.reason}${
    at === null ? "" : ` · shown as of ${fmtTime(new Date(at).toISOString())}`
  }`;
  if (old) old.textContent = text;
  else table.after(h("p", { class: "error", id: `${which}-error`, role: "status" }, text));
  table.toggleAttribute("data-stale", at !== null);
}

const none = (cols, text) => h("tr", {}, h("td", { colspan: String(cols), class: "muted" }, text));
const num = (v) => h("td", { class: "num" }, v === undefined ? "–" : String(v));

function renderLimits(limits) {
  $("#limits tbody").replaceChildren(
    ...(limits.length === 0
      ? [none(5, "No limits (PUT /limits/:task_type).")]
      : limits.map((l) =>
          h(
            "tr",
            { "data-limit": l.task_type },
            h("td", { class: "mono" }, l.task_type),
            num(l.concurrency),
            num(l.rate_per_s),
            num(l.in_use),
            num(l.waiting),
          ),
        )),
  );
}

/** The first page of GET /schedules (100); `more` (its next_cursor) says there are others. */
function renderSchedules(schedules, more) {
  const rest = more
    ? [none(5, `The first ${schedules.length} schedules, by id; triad schedule list lists them all.`)]
    : [];
  $("#schedules tbody").replaceChildren(
    ...(schedules.length === 0
      ? [none(5, "No schedules (triad schedule add).")]
      : schedules.map((sc) => {
          const last = sc.recent_task_ids[0];
          const when =
            sc.cron !== undefined
              ? `${sc.cron}${sc.timezone ? ` (${sc.timezone})` : ""}`
              : `every ${fmtMs(sc.every_ms)}`;
          return h(
            "tr",
            { "data-schedule": sc.schedule_id },
            h("td", { class: "mono" }, sc.schedule_id),
            h("td", { class: "mono" }, when),
            h("td", {}, sc.task.task_type),
            h("td", { class: "time" }, sc.next_runs[0] ? fmtTime(sc.next_runs[0]) : "–"),
            h(
              "td",
              {},
              last ? h("a", { href: `#/tasks/${encodeURIComponent(last)}`, class: "mono" }, last) : "–",
            ),
          );
        })),
    ...rest,
  );
}
