import { formatMs } from "./latency.js";

export type ProgressState = {
  total: number;
  completed: number;
  failed: number;
  retried: number;
  elapsedMs: number;
};

/**
 * A live progress bar on a terminal (redrawn in place), plain periodic lines otherwise, so
 * a log file or CI output gets a readable line per interval instead of control characters.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastLine = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly read: () => ProgressState,
  ) {}

  start(): void {
    const tty = this.out.isTTY === true;
    this.timer = setInterval(() => this.render(tty), tty ? 100 : 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.out.isTTY) {
      this.render(true);
      this.out.write("\n");
    }
  }

  private render(tty: boolean): void {
    const s = this.read();
    const done = s.completed + s.failed;
    const rate = s.elapsedMs > 0 ? (done / s.elapsedMs) * 1000 : 0;
    const text = `${done}/${s.total} done (${s.completed} completed, ${s.failed} failed, ${s.retried} retried) ${rate.toFixed(0)} tasks/s, ${formatMs(s.elapsedMs)}`;
    if (!tty) {
      if (performance.now() - this.lastLine < 900) return;
      this.lastLine = performance.now();
      this.out.write(`progress: ${text}\n`);
      return;
    }
    const width = 30;
    const filled = s.total > 0 ? Math.round((done / s.total) * width) : 0;
    const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
    this.out.write(`\r\x1b[2K${bar} ${text}`);
  }
}
