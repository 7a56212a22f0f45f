import { isTriadError } from "../core/errors.js";
import { coordinator, coordinatorSpec } from "./commands/coordinator.js";
import { distributor, distributorSpec } from "./commands/distributor.js";
import { status, statusSpec } from "./commands/status.js";
import { submit, submitSpec } from "./commands/submit.js";
import { up, upSpec } from "./commands/up.js";
import { worker, workerSpec } from "./commands/worker.js";
import { type CommandSpec, helpText, type ParsedOptions, parseOptions, UsageError } from "./options.js";

type Command = { spec: CommandSpec; run: (options: ParsedOptions) => Promise<number> };

const COMMANDS: Record<string, Command> = {
  up: { spec: upSpec, run: up },
  coordinator: { spec: coordinatorSpec, run: coordinator },
  distributor: { spec: distributorSpec, run: distributor },
  worker: { spec: workerSpec, run: worker },
  submit: { spec: submitSpec, run: submit },
  status: { spec: statusSpec, run: status },
};

const USAGE = `usage: triad <command> [options]

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.spec.name.padEnd(13)} ${c.spec.summary.split(". ")[0]}`)
  .join("\n")}

Run "triad <command> --help" for a command's options.
`;

/** Runs one CLI invocation and resolves its exit code: 0 done, 1 failed, 2 bad usage. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`triad: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let options: ParsedOptions;
  try {
    options = parseOptions(command.spec, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`triad ${name}: ${err.message}\n\n${helpText(command.spec)}`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(helpText(command.spec));
    return 0;
  }
  try {
    return await command.run(options);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`triad ${name}: ${err.message}\n\n${helpText(command.spec)}`);
      return 2;
    }
    const code = isTriadError(err) ? ` [${err.code}]` : "";
    process.stderr.write(`triad ${name}: ${(err as Error).message}${code}\n`);
    return 1;
  }
}
