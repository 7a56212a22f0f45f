// Numbers, durations and times as the page shows them.

export const fmtInt = (n) => (n === null || n === undefined ? "–" : Math.round(n).toLocaleString("en-US"));

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms === 0) return "0";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A time of day (this browser's zone) to the millisecond, with its date in front when it is not
 * today: a task's run_at next week or expires_at in 2030, a schedule's next run tomorrow.
 */
export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hms = d.toLocaleTimeString("en-GB", { hour12: false });
  const time = `${hms}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  const day = (x) =>
    `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, "0")}-${String(x.getDate()).padStart(2, "0")}`;
  return day(d) === day(new Date()) ? time : `${day(d)} ${time}`;
}

export function fmtAge(ms) {
  if (ms === null || ms === undefined) return "never";
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s ago`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}

/** A latency axis label: below a second, every label of the axis with the decimals its step needs. */
export function fmtMsAxis(ms, step) {
  if (ms === 0 || step >= 1000) return fmtMs(ms);
  return `${ms.toFixed(Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)))} ms`;
}
