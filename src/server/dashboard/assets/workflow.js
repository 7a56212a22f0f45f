// A task's workflow drawn in layers (GET /tasks/<id>/graph) on its page.

import { $, h, s } from "./dom.js";

/** Boxes of one layer drawn before the rest of it folds into one "+ N more" box (opened by a click). */
const LAYER_SHOWN = 12;
/** Layers opened on a task's page, as `<task id> <depth>`: kept while the page redraws. */
const openLayers = new Set();

/**
 * The workflow drawn in layers: a task one layer below the deepest task it depends on or was
 * spawned by; each box links to its task page and is coloured by status. A layer wider than
 * the card (a fan-out of hundreds) shows its first tasks and "+ N more", which opens the rest
 * in rows that fit the card: the drawing never scrolls sideways.
 */
export function workflowCard(id, graph) {
  const MAX_DRAWN = 400;
  const head = h(
    "h2",
    {},
    "Workflow ",
    h("span", { class: "muted" }, `${graph.nodes.length} tasks${graph.truncated ? " (truncated)" : ""}`),
  );
  if (graph.nodes.length > MAX_DRAWN)
    return h(
      "section",
      { class: "card workflow", id: "workflow" },
      head,
      h("p", { class: "muted" }, "Too many tasks to draw."),
    );
  const into = new Map(graph.nodes.map((n) => [n.task_id, []]));
  for (const [from, to] of graph.edges) into.get(to)?.push(from);
  const depth = new Map();
  const depthOf = (start) => {
    // Iterative: a chain of hundreds must not overflow the stack.
    const stack = [start];
    while (stack.length) {
      const node = stack[stack.length - 1];
      const pending = into.get(node).filter((p) => !depth.has(p));
      if (pending.length) stack.push(...pending);
      else {
        depth.set(node, Math.max(-1, ...into.get(node).map((p) => depth.get(p))) + 1);
        stack.pop();
      }
    }
    return depth.get(start);
  };
  const layers = [];
  for (const n of graph.nodes) {
    const d = depthOf(n.task_id);
    if (layers[d] === undefined) layers[d] = [];
    // The task whose page this is comes first in its layer: never folded away.
    if (n.task_id === id) layers[d].unshift(n);
    else layers[d].push(n);
  }
  const scroll = h("div", { class: "workflow-scroll" });
  const card = h("section", { class: "card workflow", id: "workflow" }, head, scroll);
  // The room the drawing has: the card's, or (not shown yet) the task page's less the card's padding.
  const room = () => (scroll.isConnected ? scroll.clientWidth : $("#task-body").clientWidth - 34);
  const draw = () => scroll.replaceChildren(workflowSvg(id, layers, graph.edges, room(), draw));
  card.redraw = draw;
  draw();
  return card;
}

function workflowSvg(id, layers, edges, room, redraw) {
  const W = 180,
    H = 26,
    GX = 24,
    GY = 34;
  const perRow = Math.max(1, Math.floor((room + GX) / (W + GX)));
  const boxes = [];
  const pos = new Map();
  let row = 0;
  layers.forEach((layer, d) => {
    const key = `${id} ${d}`;
    // Folded, a layer keeps one row: its first tasks and the "+ N more" box (on a phone, where a
    // row holds one box, the first task and the box below it). One task left over is drawn.
    const keep = Math.max(1, Math.min(LAYER_SHOWN, perRow) - 1);
    const folded = layer.length > keep + 1 && !openLayers.has(key);
    const drawn = folded ? layer.slice(0, keep) : layer;
    // A layer in rows: edges into it end at its first row's top, above the box's column (not
    // across the rows between), so a fan-out of hundreds draws one line a column.
    const top = row * (H + GY);
    drawn.forEach((n, i) => {
      const p = { x: (i % perRow) * (W + GX), y: (row + Math.floor(i / perRow)) * (H + GY), top };
      pos.set(n.task_id, p);
      boxes.push({ n, p });
    });
    if (folded) {
      const i = drawn.length;
      const p = { x: (i % perRow) * (W + GX), y: (row + Math.floor(i / perRow)) * (H + GY), top };
      // The folded tasks' edges meet at their "+ N more" box.
      for (const n of layer.slice(drawn.length)) pos.set(n.task_id, p);
      boxes.push({ more: { key, hidden: layer.length - drawn.length }, p });
    }
    row += Math.max(1, Math.ceil((drawn.length + (folded ? 1 : 0)) / perRow));
  });
  const cols = Math.min(perRow, Math.max(...layers.map((l) => l.length)));
  const width = cols * (W + GX) - GX;
  const height = row * (H + GY) - GY + 2;
  const svg = s("svg", { class: "workflow-graph", viewBox: `0 0 ${width} ${height}`, width, height });
  const drawnEdges = new Set();
  for (const [from, to, kind] of edges) {
    const a = pos.get(from),
      b = pos.get(to);
    const line = a && b && `${a.x},${a.y} ${b.x},${b.top} ${kind}`;
    if (!line || a === b || drawnEdges.has(line)) continue;
    drawnEdges.add(line);
    svg.append(
      s("line", {
        x1: a.x + W / 2,
        y1: a.y + H,
        x2: b.x + W / 2,
        y2: b.top,
        class: `edge ${kind}`,
        "data-kind": kind,
      }),
    );
  }
  for (const { n, more, p } of boxes) {
    if (more) {
      const open = () => {
        openLayers.add(more.key);
        redraw();
      };
      const box = s("g", {
        class: "more",
        "data-more": more.key,
        role: "button",
        tabindex: 0,
        "aria-label": `Show the other ${more.hidden} tasks of this layer`,
      });
      box.append(
        s("rect", { x: p.x, y: p.y, width: W, height: H, rx: 4, class: "node more" }),
        s(
          "text",
          { x: p.x + W / 2, y: p.y + 17, "text-anchor": "middle", class: "label" },
          `+ ${more.hidden} more`,
        ),
      );
      box.addEventListener("click", open);
      box.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open();
        }
      });
      svg.append(box);
      continue;
    }
    const label = n.task_id.length > 24 ? `…${n.task_id.slice(-23)}` : n.task_id;
    const link = s("a", {
      href: `#/tasks/${encodeURIComponent(n.task_id)}`,
      "data-task": n.task_id,
      "data-status": n.status,
    });
    link.append(
      s("rect", {
        x: p.x,
        y: p.y,
        width: W,
        height: H,
        rx: 4,
        class: `node ${n.status}${n.task_id === id ? " current" : ""}`,
      }),
      s("text", { x: p.x + 6, y: p.y + 17, class: "label" }, label),
      s("title", {}, `${n.task_id} (${n.task_type}): ${n.status}`),
    );
    svg.append(link);
  }
  return svg;
}
