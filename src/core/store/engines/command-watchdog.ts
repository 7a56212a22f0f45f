import type { ReplyWaits } from "../../busy-poll.js";
import { isStoreUnavailable, storeUnavailable } from "../../errors.js";
import { asStoreError, type StoreOutage } from "../store-outage.js";

/** What the watchdog tells of replies and of failures that mean the store is unavailable. */
export type OutageTracker = Pick<StoreOutage, "answered" | "failed"> & Partial<Pick<StoreOutage, "ended">>;

/**
 * `era`: the outages ended when it was sent (StoreOutage.ended): a failure after another end is a
 * leftover. `command`, `script`: what was sent (its first word, the script's name), for the error.
 */
type Watched = {
  started: number;
  reject: (err: unknown) => void;
  settled: boolean;
  era: number | undefined;
  command: string | undefined;
  script: string | undefined;
};

/** What a failed command was, for its error: "script <name>", or the command's first word. */
function named(command: string | undefined, script: string | undefined): string | undefined {
  return script === undefined ? command : `script ${script}`;
}

/** " to <what>" for a timeout's message, or nothing when it is not known. */
function noReplyTo(entry: Watched): string {
  const what = named(entry.command, entry.script);
  return what === undefined ? "" : ` to ${what}`;
}

/**
 * A deadline for every command, kept by one timer. node-redis can give each command its own
 * (an AbortSignal.timeout per command), but that costs more CPU than the command: a PING took
 * 29 µs with it and 14 µs without, and a pipeline of 100 ten times as much. Here each command
 * only joins a queue in the order it was sent; a sweep every second refuses, with
 * ERR_STORE_TIMEOUT, those that waited longer than the deadline — the same promise node-redis'
 * timeout made, at the cost of an array push. It also tells `waits` (the busy poller) when a
 * reply is awaited and when it came, and `outage` which replies came and which commands failed
 * because the store is unavailable (those errors become ERR_STORE_UNAVAILABLE: see asStoreError).
 */
export class CommandWatchdog {
  private queue: Watched[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly where: () => string,
    private readonly now: () => number = () => performance.now(),
    private readonly waits?: ReplyWaits,
    private readonly outage?: OutageTracker,
  ) {}

  /**
   * `reply`, or a rejection once it has waited `timeoutMs` (its late answer is then ignored).
   * `command` (its first word) and `script` (a script's name) are named in the error of a
   * failure; kept as they are given, put together only then (nothing more per command).
   */
  watch<T>(reply: Promise<T>, command?: string, script?: string): Promise<T> {
    // Swept once the loop has read what came meanwhile (setImmediate runs after the poll phase):
    // after a stall of this process, its timers run first, and a reply already in the socket
    // would be refused as a timeout, and told as an outage, with the store up all along.
    this.timer ??= setInterval(
      () => setImmediate(() => this.sweep()),
      Math.min(1000, this.timeoutMs),
    ).unref();
    const waits = this.waits;
    waits?.begin();
    return new Promise<T>((resolve, reject) => {
      const entry: Watched = {
        started: this.now(),
        reject,
        settled: false,
        era: this.outage?.ended,
        command,
        script,
      };
      this.queue.push(entry);
      reply.then(
        (value) => {
          waits?.end();
          this.outage?.answered();
          if (entry.settled) return;
          entry.settled = true;
          resolve(value);
          this.trim();
        },
        (err: unknown) => {
          waits?.end();
          if (entry.settled) return;
          entry.settled = true;
          reject(this.failed(err, entry.era, named(entry.command, entry.script)));
          this.trim();
        },
      );
    });
  }

  /** Commands sent and not answered yet. */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]!.settled) n++;
    return n;
  }

  /** Refuses every command that has waited past the deadline. */
  sweep(): void {
    const due = this.now() - this.timeoutMs;
    for (let i = this.head; i < this.queue.length; i++) {
      const entry = this.queue[i]!;
      if (entry.started > due) break; // in the order they were sent: the rest are younger
      if (entry.settled) continue;
      entry.settled = true;
      entry.reject(
        this.failed(
          storeUnavailable(
            "ERR_STORE_TIMEOUT",
            `no reply from ${this.where()} within ${this.timeoutMs} ms${noReplyTo(entry)} (the command may still have run)`,
          ),
          entry.era,
        ),
      );
    }
    this.trim();
  }

  /**
   * The error a caller gets for `err`, the outage told when it says the store is unavailable;
   * `era`: the outages ended when the command was sent (see StoreOutage.failed); `command`: what
   * it was (see asStoreError).
   */
  failed(err: unknown, era?: number, command?: string): unknown {
    const out = asStoreError(err, command);
    if (isStoreUnavailable(out)) this.outage?.failed(out, era);
    return out;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private trim(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.settled) this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
