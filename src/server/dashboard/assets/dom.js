// The page's DOM helpers: elements built from data (text only, never parsed as HTML) and the
// task id the address names.

const SVG = "http://www.w3.org/2000/svg";

export const $ = (selector) => document.querySelector(selector);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An element with attributes and children (strings become text: nothing here is parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

/** The task id of #/tasks/<id>, or null on another page. */
export function currentTaskId() {
  const m = /^#\/tasks\/(.+)$/.exec(location.hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    // Typed or pasted by hand, not encoded by the page (#/tasks/100%): the id as it stands.
    return m[1];
  }
}
