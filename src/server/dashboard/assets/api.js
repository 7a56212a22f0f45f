// The API client: the token (asked for once, kept for this tab), JSON requests, the parser of
// server-sent event streams, and the connection's state in the header.

import { $ } from "./dom.js";
import { fmtTime } from "./format.js";

const TOKEN_KEY = "triad.token";

let token = sessionStorage.getItem(TOKEN_KEY) ?? "";
let tokenRequired = false;
let asking = null;

export function authHeaders() {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Shows the token dialog (once, however many callers wait) and resolves when a token was entered. */
export function askToken(problem) {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const dialog = $("#token-dialog");
    const error = $("#token-error");
    error.hidden = !problem;
    error.textContent = problem ?? "";
    $("#token-input").value = "";
    dialog.oncancel = (event) => event.preventDefault(); // nothing works without it
    $("#token-form").onsubmit = (event) => {
      event.preventDefault();
      token = $("#token-input").value.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      dialog.close();
      asking = null;
      resolve();
    };
    setConnection("locked", "token needed");
    dialog.showModal();
    $("#token-input").focus();
  });
  return asking;
}

/** Whether the coordinator wants a token (GET /dashboard/config, read once at start). */
export function setTokenRequired(required) {
  tokenRequired = required;
}

/** Forgets a token the coordinator refused and asks for another. */
export function refuseToken() {
  token = "";
  return askToken("That token was refused; try again.");
}

export async function ensureToken() {
  if (tokenRequired && !token) await askToken(null);
}

/** GET a JSON route of the API, asking for the token when it is wanted. */
export async function api(path, method = "GET") {
  for (;;) {
    await ensureToken();
    const res = await fetch(path, { method, headers: authHeaders(), cache: "no-store" });
    if (res.status === 401) {
      token = "";
      await askToken("That token was refused; try again.");
      continue;
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    return body;
  }
}

/** When the last snapshot or update arrived (ms since the epoch), null before the first. */
let heardAt = null;

/** A snapshot or update arrived: what the overview shows is as of now. */
export function markHeard() {
  heardAt = Date.now();
}

/**
 * The live stream's state in the header. While it is not live, what the overview shows is
 * what the coordinator said last, not the cluster now (an agent "busy, 0.4 s ago" may have
 * died since): it is dimmed (#overview data-stale) and the pill says from when it is.
 */
export function setConnection(kind, text) {
  const el = $("#conn");
  el.dataset.state = kind;
  const stale = kind !== "live" && kind !== "connecting" && heardAt !== null;
  el.textContent = `${text ?? kind}${stale ? ` · shown as of ${fmtTime(new Date(heardAt).toISOString())}` : ""}`;
  $("#overview").toggleAttribute("data-stale", stale);
}

/**
 * Parses a text/event-stream body into (event, JSON data, last event id) calls until it ends;
 * `heard` is called with every piece that arrives (events and keep-alive comments alike).
 */
export async function readEvents(body, handle, heard) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let lastId = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    heard?.();
    buffer += value.replaceAll("\r\n", "\n");
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        else if (line.startsWith("id:")) lastId = line.slice(3).replace(/^ /, "");
      }
      if (data.length > 0) handle(event, JSON.parse(data.join("\n")), lastId);
      end = buffer.indexOf("\n\n");
    }
  }
}
