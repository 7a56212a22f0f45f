/**
 * Graceful shutdown on SIGTERM / SIGINT: the first signal runs `stop` (stop taking work, finish
 * or hand back what is in flight) bounded by `graceMs`, then exits 0; a second signal exits at
 * once. Returns a promise that resolves when the process should end, with its exit code.
 */
export function onShutdown(
  stop: () => Promise<void>,
  graceMs: number,
  log: (msg: string) => void,
): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}: shutting down (at most ${graceMs} ms; send it again to exit at once)`);
      const timer = setTimeout(() => {
        log("shutdown took too long: exiting");
        resolve(0);
      }, graceMs);
      timer.unref();
      stop()
        .catch((err: unknown) => log(`error while shutting down: ${(err as Error).message}`))
        .finally(() => {
          clearTimeout(timer);
          resolve(0);
        });
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}
