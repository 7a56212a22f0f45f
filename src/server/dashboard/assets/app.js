// The Triad dashboard: one page, no dependencies, served by the coordinator itself. It follows
// GET /events (server-sent events, read with fetch so the API token travels in a header, never
// in a URL) and shows the task page of #/tasks/<id> from GET /tasks/<id>/history, kept live by
// the task's own GET /tasks/<id>/events while it is open (polling if that stream fails).
//
// This file routes and starts; the rest are ES modules beside it (each one listed in SCRIPTS of
// static-assets.ts, which serves them): api.js (the token, requests, the event-stream parser),
// live.js (the live stream), state.js, overview.js, charts.js, controls.js (limits, schedules),
// task-page.js (a task's page and its own stream), task-cards.js, input.js, workflow.js, and the
// helpers dom.js and format.js.

import { setTokenRequired } from "./api.js";
import { renderCharts } from "./charts.js";
import { pollControls } from "./controls.js";
import { $, currentTaskId } from "./dom.js";
import { follow } from "./live.js";
import { renderOverview } from "./overview.js";
import { leaveTask, showTask } from "./task-page.js";

function route() {
  const id = currentTaskId();
  if (id !== null) return void showTask(id);
  leaveTask();
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
