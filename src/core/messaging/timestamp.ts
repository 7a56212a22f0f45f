// ISO 8601 date-time: our own messages say "2025-11-28T12:00:00.000Z"; a Python peer says
// "2025-11-28T12:00:00.123456" (datetime.utcnow().isoformat(): UTC without an offset) or
// "...+00:00". All three are read; anything else is not a timestamp.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/;

/** Milliseconds since the epoch of an ISO 8601 date-time (no offset means UTC), or NaN. */
export function parseTimestamp(text: string): number {
  const m = ISO_DATE_TIME.exec(text);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return Number.NaN;
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 April over into 1 May; a date that rolled over was not a date.
  if (new Date(utc).getUTCDate() !== day) return Number.NaN;
  const offset = m[8];
  if (offset === undefined || offset === "Z") return utc;
  const sign = offset.startsWith("-") ? -1 : 1;
  const offsetMinutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return utc - sign * offsetMinutes * 60_000;
}

/**
 * The wire form of a wall-clock instant: ISO 8601 in UTC with milliseconds. The last instant's
 * text is kept: the tasks and messages of a burst share their millisecond, and a Date and its
 * formatting cost a few microseconds each, on every task's path (created_at, started_at).
 */
export function formatTimestamp(epochMs: number): string {
  if (epochMs !== lastEpochMs) {
    lastText = new Date(epochMs).toISOString(); // throws on an invalid instant (NaN), as before
    lastEpochMs = epochMs;
  }
  return lastText;
}
let lastEpochMs = Number.NaN;
let lastText = "";

/** formatTimestamp of now (`new Date().toISOString()`, the same text). */
export function timestampNow(): string {
  return formatTimestamp(Date.now());
}
