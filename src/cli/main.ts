const USAGE = `usage: triad <command> [options]

commands:
  up            run every tier in one process with a demo workload
  coordinator   run a coordinator
  distributor   run a distributor
  worker        run a worker
  submit        submit tasks to a coordinator
  status        show agents, health and task counts

Run "triad <command> --help" for a command's options.
`;

/** Runs one CLI invocation and resolves its exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`triad: "${command}" is not available yet\n\n${USAGE}`);
  return 2;
}
