// The live stream: GET /events, followed for as long as the page is open.

import { authHeaders, ensureToken, markHeard, readEvents, refuseToken, setConnection } from "./api.js";
import { $, sleep } from "./dom.js";
import { fmtTime } from "./format.js";
import { renderOverview } from "./overview.js";
import { state, WINDOW_S } from "./state.js";

/**
 * How long the live stream may stay silent before the page counts it as lost: the server sends an
 * update every second (TICK_MS in live-feed.ts), so this is several missed in a row; a frozen
 * coordinator (SIGSTOP, a hung host) keeps the connection open but sends nothing.
 */
const STALL_MS = 5000;

/**
 * Aborts `controller` once `ms` pass without a call to poke() (or stop()): the watchdog of a
 * stream that may go quiet without closing.
 */
function stallGuard(controller, ms) {
  let timer;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error("the live stream went silent")), ms);
  };
  const stop = () => clearTimeout(timer);
  return { poke, stop };
}

/**
 * Follows GET /events for as long as the page is open, reconnecting with backoff, also when the
 * stream goes silent for STALL_MS (the coordinator frozen) or its answer takes as long.
 */
export async function follow() {
  let backoff = 1000;
  for (;;) {
    const controller = new AbortController();
    const guard = stallGuard(controller, STALL_MS);
    try {
      await ensureToken();
      guard.poke();
      const res = await fetch("/events", {
        headers: { ...authHeaders(), accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (res.status === 401) {
        await refuseToken();
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      setConnection("live");
      backoff = 1000;
      await readEvents(res.body, onEvent, guard.poke);
    } catch {
      // The coordinator went away, the network dropped or the stream went silent: try again below.
    } finally {
      guard.stop();
      controller.abort(); // lets go of a stream that went silent (its socket too)
    }
    setConnection("reconnecting");
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 10_000);
  }
}

function onEvent(event, data) {
  if (event !== "snapshot" && event !== "update") return;
  if (event === "snapshot") state.series.clear();
  markHeard();
  state.coordinator = data.coordinator;
  state.counts = data.counts;
  state.agents = data.agents;
  renderStore(data.store);
  for (const sample of data.samples ?? []) state.series.set(sample.t, sample);
  const keys = [...state.series.keys()].sort((a, b) => a - b);
  for (const t of keys.slice(0, Math.max(0, keys.length - 2 * WINDOW_S))) state.series.delete(t);
  if (data.failures) state.failures = data.failures;
  if (data.retries) state.retries = data.retries;
  if (data.reassignments) state.reassignments = data.reassignments;
  renderOverview(Boolean(data.failures));
}

/**
 * The store's state in the header, as the coordinator found it: the stream can be live while
 * the store is down (counts frozen, writes answered 503), so "live" alone would mislead.
 */
function renderStore(store) {
  const el = $("#store");
  const down = store != null && store.reachable === false;
  el.hidden = !down;
  el.textContent = down
    ? `store unreachable${store.unreachable_since ? ` since ${fmtTime(store.unreachable_since)}` : ""}`
    : "";
}
