// The overview's charts (inline SVG): throughput and latency over the last five minutes.

import { $, s } from "./dom.js";
import { fmtInt, fmtMs, fmtMsAxis } from "./format.js";
import { state, WINDOW_S } from "./state.js";

/**
 * The axis top at or above `v` (and at least `min`) and how many gridline intervals make round
 * labels (0, 50, 100, ...; 0, 0.2, 0.4, ...). With `min` 5 every step is a whole number (0, 1, ... 5
 * at least), for counts: rounded labels of a 0–1 range would read 0, 0, 1, 1, 1.
 */
function niceScale(v, min) {
  v = Math.max(v, min);
  const p = 10 ** Math.floor(Math.log10(v));
  for (const [m, steps] of [
    [1, 5],
    [2, 4],
    [2.5, 5],
    [5, 5],
    [10, 5],
  ]) {
    if (m * p >= v) return { max: m * p, steps };
  }
  return { max: 10 * p, steps: 5 };
}

export function renderCharts() {
  const samples = [...state.series.values()].sort((a, b) => a.t - b.t);
  const end = samples.length ? samples[samples.length - 1].t : 0;
  const recent = samples.filter((x) => x.t > end - WINDOW_S);
  // Counts: whole-number ticks, and a second with none draws nothing (no stub along the axis).
  lineChart($("#chart-throughput"), recent, end, { format: fmtInt, min: 5, zeroIsNone: true }, [
    { name: "completed", cls: "s-completed", area: true, value: (x) => x.completed },
    { name: "failed", cls: "s-failed", area: false, value: (x) => x.failed + x.abandoned },
  ]);
  lineChart($("#chart-latency"), recent, end, { format: fmtMs, axisFormat: fmtMsAxis, min: 1 }, [
    { name: "p50", cls: "s-p50", area: true, value: (x) => x.p50 },
    { name: "p95", cls: "s-p95", area: false, value: (x) => x.p95 },
  ]);
}

/**
 * One chart: `opts` is { format (values), axisFormat (value, step; else format), min (the lowest
 * axis top), zeroIsNone (a 0 is drawn as nothing: no line along the axis between two zeros) }.
 */
function lineChart(svg, samples, end, opts, lines) {
  const { format, min, zeroIsNone } = opts;
  const axisFormat = opts.axisFormat ?? format;
  const w = Math.max(200, svg.clientWidth || 600);
  const height = Math.max(120, svg.clientHeight || 190);
  const pad = { l: 52, r: 12, t: 10, b: 22 };
  svg.setAttribute("viewBox", `0 0 ${w} ${height}`);
  const values = samples.flatMap((x) => lines.map((l) => l.value(x))).filter((v) => v !== null);
  const { max: yMax, steps } = niceScale(Math.max(0, ...values), min);
  const x = (t) => pad.l + ((t - (end - WINDOW_S)) / WINDOW_S) * (w - pad.l - pad.r);
  const y = (v) => pad.t + (1 - v / yMax) * (height - pad.t - pad.b);
  const parts = [];
  const grid = s("g", { class: "grid" });
  const axis = s("g", { class: "axis" });
  for (let i = 0; i <= steps; i++) {
    const v = (yMax * i) / steps;
    grid.append(s("line", { x1: pad.l, x2: w - pad.r, y1: y(v), y2: y(v) }));
    const label = s("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" });
    label.textContent = axisFormat(v, yMax / steps);
    axis.append(label);
  }
  for (let m = 0; m <= 5; m++) {
    const label = s("text", { x: x(end - m * 60), y: height - 6, "text-anchor": m === 0 ? "end" : "middle" });
    label.textContent = m === 0 ? "now" : `-${m}m`;
    axis.append(label);
  }
  parts.push(grid, axis);
  // Seconds that passed with no task finishing are samples too: the note goes by what they hold.
  if (!values.some((v) => !(zeroIsNone && v === 0))) {
    const note = s("text", { x: w / 2, y: height / 2, "text-anchor": "middle", class: "empty" });
    note.textContent = "No tasks finished in the last 5 minutes";
    parts.push(note);
  }
  for (const line of lines) {
    // One path segment per run of seconds that have a value (a latency gap breaks the line). With
    // zeroIsNone two zeros in a row break it too, and a run of zeros alone is not drawn: a spike
    // rises from 0 and falls back to it, but quiet seconds leave no mark.
    const runs = [];
    let run = [];
    let shown = false;
    const close = () => {
      if (shown) runs.push(run);
      run = [];
      shown = false;
    };
    let prev = null;
    for (const sample of samples) {
      const v = line.value(sample);
      if (v === null) close();
      else {
        if (zeroIsNone && v === 0 && prev === 0) close();
        run.push([x(sample.t), y(v)]);
        if (!(zeroIsNone && v === 0)) shown = true;
      }
      prev = v;
    }
    close();
    for (const points of runs) {
      if (points.length === 1) {
        // A lone second between gaps: a dot, since a one-point line draws nothing.
        const [cx, cy] = points[0];
        parts.push(s("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 2.5, class: `dot ${line.cls}` }));
        continue;
      }
      const d = points.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
      if (line.area && points.length > 1) {
        const base = y(0).toFixed(1);
        const area = `${d}L${points[points.length - 1][0].toFixed(1)},${base}L${points[0][0].toFixed(1)},${base}Z`;
        parts.push(s("path", { d: area, class: `area ${line.cls}` }));
      }
      parts.push(s("path", { d, class: `line ${line.cls}` }));
    }
  }
  const cursor = s("line", { class: "cursor", y1: pad.t, y2: height - pad.b, visibility: "hidden" });
  const tip = s("text", { class: "tip", y: pad.t + 12, visibility: "hidden" });
  const overlay = s("rect", { x: pad.l, y: pad.t, width: w - pad.l - pad.r, height: height - pad.t - pad.b });
  overlay.setAttribute("fill", "transparent");
  overlay.addEventListener("pointermove", (event) => {
    if (samples.length === 0) return;
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * w;
    const t = end - WINDOW_S + ((px - pad.l) / (w - pad.l - pad.r)) * WINDOW_S;
    const near = samples.reduce((best, c) => (Math.abs(c.t - t) < Math.abs(best.t - t) ? c : best));
    const cx = x(near.t);
    for (const el of [cursor, tip]) el.setAttribute("visibility", "visible");
    cursor.setAttribute("x1", cx);
    cursor.setAttribute("x2", cx);
    tip.setAttribute("x", cx > w / 2 ? cx - 8 : cx + 8);
    tip.setAttribute("text-anchor", cx > w / 2 ? "end" : "start");
    tip.textContent = `${end - near.t}s ago · ${lines.map((l) => `${l.name} ${format(l.value(near))}`).join(" · ")}`;
  });
  overlay.addEventListener("pointerleave", () => {
    for (const el of [cursor, tip]) el.setAttribute("visibility", "hidden");
  });
  parts.push(cursor, tip, overlay);
  svg.replaceChildren(...parts);
}
